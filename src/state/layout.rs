//! How the status file is written, so that a checkpoint's diff of it stays
//! a few lines: the top level one field a line, each task (and any other
//! list at the top level) one line of its own, and nothing in it that
//! changes with every write. Also what reading an older version fills in.

use std::io::{self, Write};

use serde_json::ser::Formatter;

use super::Status;

/// The status file's bytes: the layout of [`Lines`], then a newline.
pub fn encode(status: &Status) -> serde_json::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, Lines::default());
    serde::Serialize::serialize(status, &mut ser)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// What version 3 stopped writing, filled in from what it still writes:
/// the milestone's usage (the tasks' added up) and when the run last
/// changed (the latest time it records). Versions 1 and 2 wrote both;
/// what they wrote is kept. Every file read becomes the current version,
/// and is written as such.
pub fn migrate(status: &mut Status) {
    status.version = super::STATUS_VERSION;
    if status.usage.is_none() {
        status.usage = status
            .tasks
            .iter()
            .filter_map(|t| t.usage)
            .reduce(|a, b| a.plus(&b));
    }
    if status.updated_at.is_empty() {
        let times = status
            .tasks
            .iter()
            .flat_map(|t| [&t.started_at, &t.ended_at])
            .chain([&status.started_at])
            .flatten()
            .chain(status.failure.as_ref().map(|f| &f.at));
        // RFC 3339 in UTC to the second (`state::now`) sorts as text.
        status.updated_at = times.max().cloned().unwrap_or_default();
    }
}

/// A JSON formatter: the outer object pretty, one field a line; each
/// element of an array in it on a line of its own; everything deeper on
/// one line (`{"id": "T1", "state": "done"}`). A task's record then
/// changes one line, whatever it holds.
#[derive(Default)]
pub struct Lines {
    /// Per open object or array: whether its entries go on lines of their own.
    open: Vec<bool>,
    /// The open container has an entry (so its end goes on a new line).
    has_entry: bool,
}

impl Lines {
    fn multiline(&self) -> bool {
        self.open.last().copied().unwrap_or(false)
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.open.len() {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, multiline: bool, c: &[u8]) -> io::Result<()> {
        self.open.push(multiline);
        self.has_entry = false;
        w.write_all(c)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        let multiline = self.open.pop().unwrap_or(false);
        if multiline && self.has_entry {
            self.newline(w)?;
        }
        w.write_all(c)
    }

    fn entry<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.multiline() {
            self.newline(w)
        } else if first {
            Ok(())
        } else {
            w.write_all(b" ")
        }
    }
}

impl Formatter for Lines {
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let outer = self.open.is_empty();
        self.begin(w, outer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        // A list in the outer object: one entry a line.
        let in_outer = self.open.len() == 1;
        self.begin(w, in_outer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.entry(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_entry = true;
        Ok(())
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.entry(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_entry = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(value: &serde_json::Value) -> String {
        let mut bytes = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut bytes, Lines::default());
        serde::Serialize::serialize(value, &mut ser).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn outer_fields_and_list_entries_take_a_line_each() {
        let v = serde_json::json!({
            "version": 3,
            "tasks": [
                {"id": "T1", "history": [{"n": 1}, {"n": 2}]},
                {"id": "T2"}
            ],
            "empty": [],
            "failure": {"task": "T2", "at": "x"}
        });
        // serde_json's map sorts keys; the status file's struct keeps its order.
        assert_eq!(
            layout(&v),
            "{\n  \"empty\": [],\n  \"failure\": {\"at\": \"x\", \"task\": \"T2\"},\n  \"tasks\": [\n    \
             {\"history\": [{\"n\": 1}, {\"n\": 2}], \"id\": \"T1\"},\n    {\"id\": \"T2\"}\n  ],\n  \
             \"version\": 3\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&layout(&v)).unwrap();
        assert_eq!(back, v);
    }
}
