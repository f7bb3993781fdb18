use super::*;
use crate::plan::extract::extract;

/// Mark `id` done and return the new text, checking that it reads as done
/// and that every changed range is on one line of the old text (the tests
/// compare the whole text, so nothing else changed).
#[track_caller]
fn marked(text: &str, id: &str) -> String {
    let WriteBack::Marked { text: new, changed } = mark_done(text, "M1", id) else {
        panic!("{id} not marked: {:?}", mark_done(text, "M1", id));
    };
    let tasks = extract(&new, "M1").unwrap().tasks;
    assert!(tasks.iter().any(|t| t.id == id && t.done), "{new}");
    for r in &changed {
        assert!(!text[r.clone()].contains('\n'), "{r:?} spans lines");
    }
    new
}

#[test]
fn a_checkbox_is_ticked_and_nothing_else_changes() {
    let text = "# M1\n\n- [ ] T001 Parse\n- [ ] T002 Print\n";
    assert_eq!(
        marked(text, "T002"),
        "# M1\n\n- [ ] T001 Parse\n- [x] T002 Print\n"
    );
    let done = "# M1\n\n- [x] T001 Parse\n- [ ] T002 Print\n";
    assert_eq!(mark_done(done, "M1", "T001"), WriteBack::AlreadyDone);
    assert!(matches!(
        mark_done(done, "M1", "T009"),
        WriteBack::Unsafe(_)
    ));
}

#[test]
fn never_inside_a_code_block() {
    let text = "# M1\n\n```md\n- [ ] T001 example of a task\n```\n\n- [ ] T001 Parse\n  ```\n  - [ ] step in code\n  ```\n";
    assert_eq!(
        marked(text, "T001"),
        "# M1\n\n```md\n- [ ] T001 example of a task\n```\n\n- [x] T001 Parse\n  ```\n  - [ ] step in code\n  ```\n"
    );
}

const KIRO: &str = "# Implementation Plan\n\n\
- [x] 1. Set up the project\n  - Create the workspace\n\n\
- [-] 2. Build the parser\n  - [x] 2.1 Tokenise the input\n  - [ ] 2.2 Parse expressions\n  - [ ]* 2.3 Write property tests\n\n\
- [ ] 3. Evaluate expressions\n  - [ ] 3.1 Add integer division\n  - [ ] 3.2 Add modulo\n\n\
- [ ] 4. Checkpoint - ensure all tests pass\n";

#[test]
fn kiro_children_are_ticked_then_their_parent() {
    let text = KIRO.replace("# Implementation Plan", "# M1");
    let after = marked(&text, "3.1");
    assert!(after.contains("- [ ] 3. Evaluate") && after.contains("- [x] 3.1 Add"));
    let after = marked(&after, "3.2");
    assert!(
        after.contains(
            "- [x] 3. Evaluate expressions\n  - [x] 3.1 Add integer division\n  - [x] 3.2"
        ),
        "{after}"
    );
    // Kiro's in-progress parent is ticked by its last required child; the
    // optional one stays as it is.
    let after = marked(&after, "2.2");
    assert!(
        after.contains("- [x] 2. Build") && after.contains("- [ ]* 2.3"),
        "{after}"
    );
    // A top-level task with no sub-tasks is its own box.
    let after = marked(&after, "4");
    assert!(after.contains("- [x] 4. Checkpoint"), "{after}");
}

#[test]
fn a_task_box_with_open_steps_ticks_the_steps_too() {
    let text = "# M1\n\n- [ ] T001 Export\n  - [ ] Button\n  - [x] Resolution\n  - [ ] ~~Dropped~~\n- [ ] T002 Import\n  - [ ] Dialog\n";
    assert_eq!(
        marked(text, "T001"),
        "# M1\n\n- [x] T001 Export\n  - [x] Button\n  - [x] Resolution\n  - [ ] ~~Dropped~~\n- [ ] T002 Import\n  - [ ] Dialog\n"
    );
}

#[test]
fn a_status_cell_takes_the_documents_done_word_and_keeps_its_width() {
    let text = "# M1\n\n| ID | Task | Status |\n|----|------|--------|\n\
| T001 | Download | ✅ Done |\n| T002 | Resume | ⏳ Pending      |\n| T003 | Mirrors | ⏳ Pending |\n";
    assert_eq!(
        marked(text, "T002"),
        "# M1\n\n| ID | Task | Status |\n|----|------|--------|\n\
| T001 | Download | ✅ Done |\n| T002 | Resume | ✅ Done         |\n| T003 | Mirrors | ⏳ Pending |\n"
    );
    let plain =
        "# M1\n\n| ID | Task | Status |\n|---|---|---|\n| T001 | Download | Not started |\n";
    assert_eq!(
        marked(plain, "T001"),
        "# M1\n\n| ID | Task | Status |\n|---|---|---|\n| T001 | Download | Done        |\n"
    );
}

#[test]
fn a_check_mark_where_the_documents_done_tasks_have_one() {
    let text = "# M1\n\n### Step 1 ✅ — Read the files\n\nDone long ago.\n\n### Step 2 — Draw the map\n\nSome text.\n";
    assert_eq!(
        marked(text, "2"),
        "# M1\n\n### Step 1 ✅ — Read the files\n\nDone long ago.\n\n### Step 2 ✅ — Draw the map\n\nSome text.\n"
    );
    let at_end = "# M1\n\n- T001 Read the files ✅\n- T002 Draw the map\n";
    assert_eq!(
        marked(at_end, "T002"),
        "# M1\n\n- T001 Read the files ✅\n- T002 Draw the map ✅\n"
    );
}

#[test]
fn status_words_in_a_line_or_a_title() {
    let text = "# M1\n\n## Task 1: Parse\n\n**Status**: Complete\n\n## Task 2: Print\n\n**Status**: Not started\n";
    assert_eq!(
        marked(text, "2"),
        "# M1\n\n## Task 1: Parse\n\n**Status**: Complete\n\n## Task 2: Print\n\n**Status**: Complete\n"
    );
    let title =
        "# M1\n\n## Task 1: Parse (todo)\n\nWork.\n\n## Task 2: Print — in progress\n\nWork.\n";
    let after = marked(title, "1");
    assert!(after.contains("## Task 1: Parse (done)"), "{after}");
    let after = marked(&after, "2");
    assert!(after.contains("## Task 2: Print — done"), "{after}");
}

#[test]
fn no_mark_no_write() {
    let text = "# M1\n\n## Task 1: Parse\n\nWork.\n\n## Task 2: Print\n\nWork.\n";
    assert_eq!(mark_done(text, "M1", "1"), WriteBack::NoMark);
    // Steps alone do not make a heading done: nothing is ticked.
    let steps = "# M1\n\n## Task 1: Parse\n\n- [ ] lex\n- [x] parse\n\n## Task 2: Print\n\nWork.\n";
    assert_eq!(mark_done(steps, "M1", "1"), WriteBack::NoMark);
}

#[test]
fn a_heading_with_steps_gets_the_documents_check_mark_and_its_steps_ticked() {
    let text =
        "# M1\n\n### Step 1 ✅ — Read\n\nDone.\n\n### Step 2 — Export\n- [ ] Button\n- [x] Size\n";
    assert_eq!(
        marked(text, "2"),
        "# M1\n\n### Step 1 ✅ — Read\n\nDone.\n\n### Step 2 ✅ — Export\n- [x] Button\n- [x] Size\n"
    );
}
