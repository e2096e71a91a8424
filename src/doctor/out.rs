//! The diagnosis written out: one JSON line (`--json`), or a table for people.
#![forbid(unsafe_code)]

use super::{Answer, Diagnosis, DoctorError, Input, diagnose};
use crate::decide::route::Principal;
use crate::scenario::StepValue;
use crate::scenario::json::Explained;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// An answer as the oracle writes it: its result (with the sentence when the input asked
/// for explanations), or `{"error": "line N: …"}`.
struct Written<'a> {
    answer: &'a Answer,
    explain: bool,
    line: usize,
}

impl Serialize for Written<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.answer.result {
            Ok(r) => Explained(r, self.explain.then_some(self.answer.sentence.as_str()))
                .serialize(serializer),
            Err(e) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("error", &format!("line {}: {e}", self.line))?;
                map.end()
            }
        }
    }
}

/// A list of entries in the given order, as a JSON object.
struct Keyed<'a, V>(&'a [(String, V)]);

impl<V: Serialize> Serialize for Keyed<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The `--json` line of a diagnosis.
struct Line<'a>(&'a Diagnosis, usize);

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Line(d, line) = *self;
        let written = |answer| Written {
            answer,
            explain: d.explain,
            line,
        };
        let mut map = serializer.serialize_map(None)?;
        if let Some(label) = &d.label {
            map.serialize_entry("label", label)?;
        }
        map.serialize_entry("caller", &d.caller)?;
        map.serialize_entry("job", &d.job)?;
        map.serialize_entry("transfer", &written(&d.answers.transfer))?;
        let may: Vec<(String, Written<'_>)> = (d.answers.caller_may.iter())
            .map(|(k, a)| ((*k).to_string(), written(a)))
            .collect();
        map.serialize_entry("caller_may", &Keyed(&may))?;
        let routes: Vec<(String, Written<'_>)> = (d.answers.routes.iter())
            .map(|(k, a)| (k.name().to_string(), written(a)))
            .collect();
        map.serialize_entry("routes", &Keyed(&routes))?;
        let advice: Vec<BTreeMap<&str, serde_json::Value>> = d
            .advice
            .iter()
            .map(|a| {
                BTreeMap::from([
                    ("rule", a.rule.to_string().into()),
                    ("advice", a.text.clone().into()),
                    ("because", a.because.clone().into()),
                ])
            })
            .collect();
        map.serialize_entry("advice", &advice)?;
        let sentences: Vec<(String, &str)> = (d.answers.all())
            .filter(|(_, a)| a.result.is_ok())
            .map(|(k, a)| (k, a.sentence.as_str()))
            .collect();
        map.serialize_entry("sentences", &Keyed(&sentences))?;
        if !d.unknown.is_empty() {
            let unknown: Vec<(String, &str)> = (d.unknown.iter())
                .map(|(f, why)| (f.name().to_string(), why.as_str()))
                .collect();
            map.serialize_entry("unknown", &Keyed(&unknown))?;
            let depends: Vec<(String, Vec<&str>)> = (d.depends.iter())
                .map(|(k, facts)| (k.clone(), facts.iter().map(|f| f.name()).collect()))
                .collect();
            map.serialize_entry("depends_on_unknown", &Keyed(&depends))?;
        }
        map.end()
    }
}

impl Diagnosis {
    /// The `--json` line for input line `line` (the oracle's refusals of a probe say it).
    pub fn to_json_line(&self, line: usize) -> String {
        serde_json::to_string(&Line(self, line)).unwrap_or_else(|e| {
            serde_json::json!({ "error": format!("line {line}: cannot write: {e}") }).to_string()
        })
    }

    /// The diagnosis as a table for people.
    pub fn to_table(&self) -> String {
        let mut t = String::new();
        let job = &self.job;
        let label = self.label.as_deref().unwrap_or("job");
        let error = match (job.error, self.job_error_rule) {
            (Some(e), Some(rule)) => format!(", error {} ({rule})", code(e)),
            (Some(e), None) => format!(", error {}", code(e)),
            _ => String::new(),
        };
        let logon = if job.owner_logged_on {
            "logged on"
        } else {
            "not logged on"
        };
        let elevated = if job.owner_elevated {
            "elevated"
        } else {
            "not elevated"
        };
        t.push_str(&format!(
            "{label}: {}{error}\n  owner     {} ({logon}, {elevated}, {})\n",
            job.state, job.owner, job.owner_integrity
        ));
        row(&mut t, "caller", &[self.caller.to_string()]);
        row(&mut t, "transfer", &[short(&self.answers.transfer)]);
        // The refusals grouped by answer; the calls through a refused handle with it.
        let mut may = Vec::new();
        let mut refused: Vec<(String, Vec<String>)> = Vec::new();
        let mut skipped = 0;
        for (key, a) in &self.answers.caller_may {
            let group = match &a.result {
                Ok(r) if r.hresult.is_success() => {
                    may.push((*key).to_string());
                    continue;
                }
                Ok(r) if r.skipped => {
                    skipped += 1;
                    continue;
                }
                Ok(r) => format!("{} {}", code(r.hresult), r.rule),
                Err(_) => "outside the model".to_string(),
            };
            match refused.iter_mut().find(|(g, _)| *g == group) {
                Some((_, keys)) => keys.push((*key).to_string()),
                None => refused.push((group, alloc::vec![(*key).to_string()])),
            }
        }
        if !refused.is_empty() && may.len() > 6 {
            may = alloc::vec![format!("the {} other calls", may.len())];
        }
        row(&mut t, "may", &may);
        for (group, mut keys) in refused {
            if skipped > 0 && keys.first().is_some_and(|k| k == "query_interface") {
                keys[0] = format!("query_interface (and the {skipped} calls through its handle)");
            }
            let mut items = alloc::vec![format!("{group}:")];
            items.extend(keys);
            row(&mut t, "refused", &items);
        }
        let routes: Vec<String> = (self.answers.routes.iter())
            .filter_map(|(access, a)| match a.result.as_ref().ok()?.value? {
                StepValue::Route {
                    principal: Principal::Owner | Principal::NotApplicable,
                    ..
                } => None,
                StepValue::Route { principal, sid, .. } => Some(match sid {
                    Some(sid) => format!("{access} → {principal} {sid}"),
                    None => format!("{access} → {principal}"),
                }),
                _ => None,
            })
            .collect();
        if routes.is_empty() {
            row(&mut t, "routes", &["every access as the owner".to_string()]);
        } else {
            row(&mut t, "routes", &routes);
        }
        for a in &self.advice {
            row(&mut t, "advice", &[format!("{}: {}", a.rule, a.text)]);
        }
        for (fact, why) in &self.unknown {
            let mut hit: Vec<String> = (self.depends.iter())
                .filter(|(_, f)| f.contains(fact))
                .map(|(k, _)| k.clone())
                .collect();
            if hit.is_empty() {
                hit.push("no answer".to_string());
            }
            row(
                &mut t,
                "unknown",
                &[format!("{fact} ({why}); depends on it:")],
            );
            row(&mut t, "", &hit);
        }
        t
    }
}

/// An HRESULT's name, or its code when it has none.
fn code(h: crate::hresult::HResult) -> String {
    h.name().map_or_else(|| h.to_string(), String::from)
}

/// An answer in a few words and its sentence.
fn short(a: &Answer) -> String {
    match &a.result {
        Ok(_) => a.sentence.clone(),
        Err(e) => format!("outside the model: {e}"),
    }
}

/// `  name      item, item, …` wrapped at 100 columns.
fn row(out: &mut String, name: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    const WIDTH: usize = 96;
    let indent = "  ".to_string() + &" ".repeat(10);
    let mut line = format!("  {name:<9} ");
    let mut first = true;
    let mut words: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() && !item.ends_with(':') {
            ","
        } else {
            ""
        };
        for w in item.split(' ') {
            words.push(w.to_string());
        }
        if let Some(last) = words.last_mut() {
            last.push_str(sep);
        }
    }
    for w in words {
        let len = line.chars().count();
        if !first && len + 1 + w.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.clone();
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(&w);
        first = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// The doctor's answer to input line `number` (from 1): `Ok` with the diagnosis (a `--json`
/// line, or the table), `Err` with `{"error": "line N, column C: …"}` (or, for the table,
/// `error: line N…`) for a line that cannot be diagnosed. Never panics.
pub fn answer_line(number: usize, line: &[u8], json: bool) -> Result<String, String> {
    let fail = |msg: String| {
        Err(if json {
            serde_json::json!({ "error": msg }).to_string()
        } else {
            format!("error: {msg}\n")
        })
    };
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let Ok(text) = core::str::from_utf8(line) else {
        return fail(format!("line {number}: not valid UTF-8"));
    };
    let input = match Input::from_json_line(text) {
        Ok(input) => input,
        Err(e) => {
            return fail(format!(
                "line {number}, column {}: invalid input: {e}",
                e.column()
            ));
        }
    };
    match diagnose(&input) {
        Ok(d) if json => Ok(d.to_json_line(number)),
        Ok(d) => Ok(d.to_table()),
        Err(DoctorError::Json(e)) => fail(format!("line {number}, column {}: {e}", e.column())),
        Err(e) => fail(format!("line {number}: {e}")),
    }
}
