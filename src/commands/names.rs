//! The milestones a repository has, named in its plans or holding a status
//! file: listed when `plan`, `run`, `rollback`, `log` or `squash` is given
//! no name, and offered by shell completion.

use std::path::Path;

use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::ui::text::{clean, command_line};

/// One milestone found, under the name a user would type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub name: String,
    /// A tracked plan names it.
    pub in_plan: bool,
    /// Its status file's state (`failed`, `completed`, ...), if it has one.
    pub state: Option<&'static str>,
}

/// Every milestone of the repository at `cwd`: those its plans name, in
/// the order first seen, then those with only a status file.
pub fn known(cwd: &Path) -> Result<Vec<Known>> {
    let repo = Repo::discover(cwd)?;
    let mut found: Vec<Known> = crate::plan::discover::known_names(&repo)?
        .into_iter()
        .map(|name| Known {
            name,
            in_plan: true,
            state: None,
        })
        .collect();
    for (name, state) in super::status::milestones_with_status(repo.root())? {
        match found
            .iter_mut()
            .find(|k| k.name == name || crate::plan::same_milestone(&k.name, &name))
        {
            Some(k) => k.state = Some(state),
            None => found.push(Known {
                name,
                in_plan: false,
                state: Some(state),
            }),
        }
    }
    Ok(found)
}

/// The error for `git milestone <command>` without a name: what it needs,
/// and the milestones it could be given.
pub fn missing(command: &str, cwd: &Path) -> Error {
    let found = match known(cwd) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let usage = format!("`git milestone {command}` needs the name of a milestone");
    let Some(first) = found.first() else {
        let nothing = match command {
            "rollback" => Some("nothing to roll back"),
            "log" => Some("no history to show"),
            "squash" => Some("nothing to squash"),
            _ => None,
        };
        if let Some(nothing) = nothing {
            return Error::bad_input(format!(
                "{usage}; none has run in this repository, so there is {nothing}"
            ));
        }
        return Error::bad_input(format!(
            "{usage}; no tracked plan in this repository names one, and none has run here"
        ))
        .hint(format!(
            "commit a plan (`git add PLAN.md && git commit`), or name its file: \
             `git milestone {command} <name> --plan PATH`"
        ));
    };
    let width = found.iter().map(|k| clean(&k.name).chars().count()).max();
    let mut message = format!("{usage}; this repository has:");
    for k in &found {
        let mut about = Vec::new();
        if k.in_plan {
            about.push("named in a plan".to_string());
        }
        if let Some(state) = k.state {
            about.push(format!("status: {state}"));
        }
        message.push_str(&format!(
            "\n  {:<w$}  {}",
            clean(&k.name),
            about.join("; "),
            w = width.unwrap_or(0)
        ));
    }
    Error::bad_input(message).hint(format!(
        "for example `{}`",
        command_line(&["git", "milestone", command, &first.name])
    ))
}
