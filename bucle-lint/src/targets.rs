//! Which crates to read, as cargo sees a package or workspace.

use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;

use crate::Error;

/// Which target kinds to lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetKinds {
    /// Libraries, binaries and examples: the code that ships or that users copy.
    #[default]
    Default,
    /// Also tests and benches.
    All,
}

/// Which packages and targets to lint, as cargo's `-p`, `--workspace` and `--all-targets`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Packages by name; empty means the current package, or every member of a virtual
    /// workspace.
    pub packages: Vec<String>,
    /// Every workspace member.
    pub workspace: bool,
    /// Which target kinds.
    pub kinds: TargetKinds,
}

/// The root files of the selected targets, found with `cargo metadata --no-deps` (nothing is
/// built or downloaded).
pub fn crate_roots(manifest: Option<&Path>, selection: &Selection) -> Result<Vec<PathBuf>, Error> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(m) = manifest {
        cmd.manifest_path(m);
    }
    let metadata = cmd
        .exec()
        .map_err(|e| Error::Metadata(format!("cargo metadata failed: {e}")))?;
    let members = metadata.workspace_packages();
    let chosen: Vec<_> = if !selection.packages.is_empty() {
        let mut chosen = Vec::new();
        for name in &selection.packages {
            let pkg = members
                .iter()
                .find(|p| p.name.as_str() == name)
                .ok_or_else(|| {
                    Error::Metadata(format!(
                        "package `{name}` is not a member of the workspace at {}",
                        metadata.workspace_root
                    ))
                })?;
            chosen.push(*pkg);
        }
        chosen
    } else if selection.workspace {
        members
    } else {
        match metadata.root_package() {
            Some(root) => vec![root],
            None => members,
        }
    };
    let mut roots = Vec::new();
    for pkg in chosen {
        for target in &pkg.targets {
            let wanted = target.kind.iter().any(|k| {
                let k = k.to_string();
                matches!(
                    k.as_str(),
                    "lib"
                        | "rlib"
                        | "dylib"
                        | "cdylib"
                        | "staticlib"
                        | "proc-macro"
                        | "bin"
                        | "example"
                ) || (selection.kinds == TargetKinds::All && matches!(k.as_str(), "test" | "bench"))
            });
            if wanted {
                roots.push(target.src_path.clone().into_std_path_buf());
            }
        }
    }
    Ok(roots)
}
