fn main() {
    let n = bucle::run(async {
        let t = bucle::spawn(async { 1 });
        bucle::sleep(std::time::Duration::from_millis(10)).await;
        t.await.unwrap()
    });
    println!("{n}");
}
