//! `bits_helper_token._native`: the bits-helper-token model inside Python (PyO3).
//!
//! Nothing here decides. `run_line` is [`bits_helper_token::scenario::answer_line`], the one
//! function that answers a line of the oracle's contract for the `bits-helper-token-oracle`
//! binary too. `run` reads the dict straight into the model's `Scenario` with the model's own
//! strict `Deserialize` (no JSON text in between) and answers through
//! [`bits_helper_token::scenario::answer_scenario`], `answer_line`'s second half; whatever
//! that reading stops at, and every scenario the model refuses, is answered instead from
//! the dict's compact JSON line (what `json.dumps(d, separators=(",", ":"),
//! ensure_ascii=False)` writes) by `answer_line` itself, so that every error is the
//! binary's to the byte. The answer line is read straight into Python objects.
//!
//! The `unsafe` this crate needs is PyO3's, in the code its macros generate.
#![deny(unsafe_code)]

use bits_helper_token::scenario::{self, LineError};
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::fmt::Write as _;

create_exception!(
    bits_helper_token,
    ScenarioError,
    PyValueError,
    "A line (or dict) the oracle answers with {\"error\": ...}. `str(e)` is the binary's \
     message; `e.answer` the binary's whole answer line; `e.line`, `e.column` (a line that \
     is not a scenario) and `e.step` (a scenario the model refuses) say where."
);

/// How deep a scenario dict may nest before it is refused (the model's own JSON reader
/// stops at 128; this bound only keeps a self-containing dict from recursing forever).
const MAX_DEPTH: usize = 256;

/// Why reading a scenario straight from Python objects stopped: `run` then reads the
/// dict's JSON line instead, as the binary would, and answers with what that says.
#[derive(Debug)]
struct NotRead(String);

impl std::fmt::Display for NotRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotRead {}

impl serde::de::Error for NotRead {
    fn custom<T: std::fmt::Display>(msg: T) -> NotRead {
        NotRead(msg.to_string())
    }
}

/// How deep [`FromPython`] goes before it leaves a value to the JSON line (serde_json's own
/// reader stops at 128).
const READ_DEPTH: usize = 100;

/// A serde `Deserializer` over Python objects, presenting them as serde_json presents the
/// JSON that `json.dumps` writes for them: a str as a string, a dict (str keys only) as a
/// map in its order, a list or tuple as a sequence, an int as `u64` (non-negative) or `i64`,
/// a finite float as `f64`, True/False, None as unit. Anything else stops the reading.
struct FromPython<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    depth: usize,
}

impl<'de> serde::Deserializer<'de> for FromPython<'_, '_> {
    type Error = NotRead;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, NotRead> {
        let o = self.obj;
        let stop = |what: &str| Err(NotRead(format!("{what} is left to the JSON line")));
        if self.depth > READ_DEPTH {
            return stop("a deep value");
        }
        let depth = self.depth + 1;
        if let Ok(s) = o.cast::<PyString>() {
            match s.to_str() {
                Ok(s) => v.visit_str(s),
                Err(_) => stop("a str that is not UTF-8"),
            }
        } else if let Ok(d) = o.cast::<PyDict>() {
            v.visit_map(DictAccess {
                iter: d.iter(),
                value: None,
                depth,
            })
        } else if let Ok(b) = o.cast_exact::<PyBool>() {
            v.visit_bool(b.is_true())
        } else if let Ok(i) = o.cast::<PyInt>() {
            match i.extract::<i64>() {
                Ok(n) if n >= 0 => v.visit_u64(n.unsigned_abs()),
                Ok(n) => v.visit_i64(n),
                Err(_) => match i.extract::<u64>() {
                    Ok(n) => v.visit_u64(n),
                    Err(_) => stop("an int beyond 64 bits"),
                },
            }
        } else if o.is_none() {
            v.visit_unit()
        } else if let Ok(l) = o.cast::<PyList>() {
            v.visit_seq(SeqAccess {
                items: l.iter().collect(),
                next: 0,
                depth,
            })
        } else if let Ok(t) = o.cast::<PyTuple>() {
            v.visit_seq(SeqAccess {
                items: t.iter().collect(),
                next: 0,
                depth,
            })
        } else if let Ok(f) = o.cast::<PyFloat>() {
            let x = f.value();
            if x.is_finite() {
                v.visit_f64(x)
            } else {
                stop("a float JSON lacks")
            }
        } else {
            stop("a value that is not JSON")
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, NotRead> {
        if self.obj.is_none() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, NotRead> {
        v.visit_newtype_struct(self)
    }

    /// A unit variant written as a string, as serde_json reads one; any other form (a
    /// `{variant: value}` map) is left to the JSON line.
    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, NotRead> {
        use serde::de::IntoDeserializer;
        match self.obj.cast::<PyString>().map(|s| s.to_str()) {
            Ok(Ok(s)) => v.visit_enum(s.into_deserializer()),
            _ => Err(NotRead(
                "an enum that is not a str is left to the JSON line".into(),
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// A dict's entries, keys as strings only (JSON's).
struct DictAccess<'py> {
    iter: pyo3::types::iter::BoundDictIterator<'py>,
    value: Option<Bound<'py, PyAny>>,
    depth: usize,
}

impl<'de> serde::de::MapAccess<'de> for DictAccess<'_> {
    type Error = NotRead;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, NotRead> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        if !key.is_instance_of::<PyString>() {
            return Err(NotRead("a key that is not a str".into()));
        }
        self.value = Some(value);
        seed.deserialize(FromPython {
            obj: &key,
            depth: self.depth,
        })
        .map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, NotRead> {
        let Some(value) = self.value.take() else {
            return Err(NotRead("a value without its key".into()));
        };
        seed.deserialize(FromPython {
            obj: &value,
            depth: self.depth,
        })
    }
}

/// A list's or tuple's items.
struct SeqAccess<'py> {
    items: Vec<Bound<'py, PyAny>>,
    next: usize,
    depth: usize,
}

impl<'de> serde::de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = NotRead;

    fn next_element_seed<T: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, NotRead> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        seed.deserialize(FromPython {
            obj: item,
            depth: self.depth,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

/// Reads a JSON value straight into Python objects (what `json.loads` makes: dicts in the
/// line's key order, lists, str, int, float, bool, None).
#[derive(Clone, Copy)]
struct ToPython<'py>(Python<'py>);

fn py_err<E: serde::de::Error>(e: PyErr) -> E {
    E::custom(e)
}

impl<'de, 'py> serde::de::DeserializeSeed<'de> for ToPython<'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'py> serde::de::Visitor<'de> for ToPython<'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.0, v).to_owned().into_any())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let Ok(n) = v.into_pyobject(self.0);
        Ok(n.into_any())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let Ok(n) = v.into_pyobject(self.0);
        Ok(n.into_any())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.0, v).into_any())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.0, v).into_any())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.0.None().into_bound(self.0))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.0);
        while let Some(item) = seq.next_element_seed(self)? {
            list.append(item).map_err(py_err)?;
        }
        Ok(list.into_any())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.0);
        while let Some(key) = map.next_key_seed(Key(self.0))? {
            let value = map.next_value_seed(self)?;
            dict.set_item(key, value).map_err(py_err)?;
        }
        Ok(dict.into_any())
    }
}

/// A key of an answer's object: the answers use a few dozen (`hresult`, `rule`, `state`…),
/// so each is made once per thread and reused, its hash computed once.
#[derive(Clone, Copy)]
struct Key<'py>(Python<'py>);

thread_local! {
    static KEYS: std::cell::RefCell<std::collections::HashMap<Box<str>, Py<PyString>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// At most this many keys are kept (an answer has fewer than 50 different ones).
const KEPT_KEYS: usize = 256;

impl<'de, 'py> serde::de::DeserializeSeed<'de> for Key<'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> serde::de::Visitor<'de> for Key<'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let py = self.0;
        KEYS.with(|keys| {
            let mut keys = keys.borrow_mut();
            if let Some(key) = keys.get(v) {
                return Ok(key.bind(py).clone().into_any());
            }
            let key = PyString::new(py, v);
            if keys.len() < KEPT_KEYS {
                keys.insert(v.into(), key.clone().unbind());
            }
            Ok(key.into_any())
        })
    }
}

/// The model's answer line as Python objects.
fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    use serde::de::DeserializeSeed;
    let mut reader = serde_json::Deserializer::from_str(text);
    ToPython(py)
        .deserialize(&mut reader)
        .map_err(|e| PyValueError::new_err(format!("cannot read the model's answer: {e}")))
}

/// The Python exception for a line the model answers with an error: the binary's message,
/// with its answer line and position as attributes.
fn scenario_error(py: Python<'_>, e: &LineError) -> PyErr {
    let err = ScenarioError::new_err(e.to_string());
    let value = err.value(py);
    let set = || -> PyResult<()> {
        value.setattr("answer", e.to_json_line())?;
        value.setattr("line", e.line())?;
        value.setattr("column", e.column())?;
        value.setattr("step", e.step())?;
        Ok(())
    };
    match set() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// A value that cannot be written as JSON: a `TypeError` (its place in the scenario is
/// added by [`dict_line`]).
fn not_json(what: String) -> PyErr {
    PyTypeError::new_err(format!(
        "{what} is not JSON (a scenario holds dicts with str keys, lists, str, int, float, \
         bool and None)"
    ))
}

/// Writes `s` as a JSON string, escaped as Python's `json.dumps(..., ensure_ascii=False)`.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Where in the scenario a value is, built only when something there is refused:
/// `["steps"][2]["op"]`.
fn at(err: PyErr, segment: impl FnOnce() -> String) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py);
        let path: String = value
            .getattr("_bht_path")
            .and_then(|p| p.extract())
            .unwrap_or_default();
        let _ = value.setattr("_bht_path", segment() + &path);
    });
    err
}

/// Writes a Python value as compact JSON, in the dict's own key order.
fn write_value(out: &mut String, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(ScenarioError::new_err(format!(
            "the scenario nests deeper than {MAX_DEPTH} levels (or contains itself)"
        )));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        write_str(out, s.to_str()?);
    } else if let Ok(d) = obj.cast::<PyDict>() {
        out.push('{');
        for (i, (k, v)) in d.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let Ok(key) = k.cast::<PyString>() else {
                return Err(not_json(format!(
                    "the key {} ({})",
                    k.repr()?,
                    k.get_type().name()?
                )));
            };
            let key = key.to_str()?;
            write_str(out, key);
            out.push(':');
            write_value(out, &v, depth + 1).map_err(|e| at(e, || format!("[{key:?}]")))?;
        }
        out.push('}');
    } else if let Ok(b) = obj.cast_exact::<PyBool>() {
        out.push_str(if b.is_true() { "true" } else { "false" });
    } else if let Ok(i) = obj.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            // Beyond 64 bits: Python's own digits, as json.dumps writes them.
            Err(_) => out.push_str(i.str()?.to_str()?),
        }
    } else if obj.is_none() {
        out.push_str("null");
    } else if let Ok(l) = obj.cast::<PyList>() {
        out.push('[');
        for (i, item) in l.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_value(out, &item, depth + 1).map_err(|e| at(e, || format!("[{i}]")))?;
        }
        out.push(']');
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        out.push('[');
        for (i, item) in t.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_value(out, &item, depth + 1).map_err(|e| at(e, || format!("[{i}]")))?;
        }
        out.push(']');
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(not_json(format!("the float {v}")));
        }
        // float.__repr__, as json.dumps writes it.
        out.push_str(f.repr()?.to_str()?);
    } else {
        return Err(not_json(format!(
            "a {} ({})",
            obj.get_type().name()?,
            obj.repr()?
        )));
    }
    Ok(())
}

/// The compact JSON line of a scenario dict.
fn dict_line(scenario: &Bound<'_, PyAny>) -> PyResult<String> {
    if !scenario.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "a scenario is a dict, not a {}",
            scenario.get_type().name()?
        )));
    }
    let mut out = String::with_capacity(2048);
    match write_value(&mut out, scenario, 0) {
        Ok(()) => Ok(out),
        // Said where: `scenario["steps"][2]["op"]: a set ({1}) is not JSON (…)`.
        Err(e) => Err(Python::attach(|py| {
            let value = e.value(py);
            let Ok(path) = value
                .getattr("_bht_path")
                .and_then(|p| p.extract::<String>())
            else {
                return e;
            };
            let _ = value.delattr("_bht_path");
            let message = format!("scenario{path}: {value}");
            if e.is_instance_of::<ScenarioError>(py) {
                ScenarioError::new_err(message)
            } else {
                PyTypeError::new_err(message)
            }
        })),
    }
}

/// The model's answer line for `line`, or its error; the GIL is released while it runs.
fn answer(py: Python<'_>, number: usize, line: &[u8]) -> PyResult<String> {
    py.detach(|| scenario::answer_line(number, line))
        .map_err(|e| scenario_error(py, &e))
}

/// The oracle's answer to a scenario, dicts in and dicts out: the scenario read straight
/// from the dict with the model's own (strict) `Deserialize`, then
/// [`scenario::answer_scenario`], the second half of the binary's `answer_line`. Whatever
/// that reading refuses, and every scenario the model refuses, is answered from the dict's
/// JSON line by `answer_line` itself, so that every error is the binary's.
#[pyfunction]
fn run<'py>(py: Python<'py>, scenario: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if scenario.is_instance_of::<PyDict>() {
        // The trait's `deserialize` (the strict one the JSON line is read with), not the
        // inherent one `serde(remote = "Self")` derives beside it.
        let read = <scenario::Scenario as serde::Deserialize>::deserialize(FromPython {
            obj: scenario,
            depth: 0,
        });
        if let Ok(read) = read {
            if let Ok(text) = py.detach(|| scenario::answer_scenario(1, &read)) {
                return loads(py, &text);
            }
        }
    }
    let line = dict_line(scenario)?;
    let text = answer(py, 1, line.as_bytes())?;
    loads(py, &text)
}

/// The binary's answer line to one input line (str or bytes).
#[pyfunction]
#[pyo3(signature = (line, number = 1))]
fn run_line(py: Python<'_>, line: &Bound<'_, PyAny>, number: usize) -> PyResult<String> {
    if let Ok(s) = line.cast::<PyString>() {
        let text = s.to_cow()?;
        answer(py, number, text.as_bytes())
    } else if let Ok(b) = line.extract::<&[u8]>() {
        answer(py, number, b)
    } else {
        Err(PyTypeError::new_err(format!(
            "a line is a str or bytes, not a {}",
            line.get_type().name()?
        )))
    }
}

/// The compact JSON line `run` gives the model for a scenario dict.
#[pyfunction]
fn scenario_line(scenario: &Bound<'_, PyAny>) -> PyResult<String> {
    dict_line(scenario)
}

/// What `bits-helper-token-oracle --schema` prints.
#[pyfunction]
fn schemas_json() -> String {
    scenario::schemas_json()
}

/// Where `run`'s time goes, for `bench/bench_run.py`: the mean microseconds per scenario
/// of each stage over `scenarios` (each must be one the model answers), once.
#[pyfunction]
fn _profile(py: Python<'_>, scenarios: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<(String, f64)>> {
    use std::time::Instant;
    let n = scenarios.len().max(1) as f64;
    let us = |t: Instant| t.elapsed().as_secs_f64() / n * 1e6;
    let not_answered = |e: String| ScenarioError::new_err(e);
    let t = Instant::now();
    let mut read = Vec::with_capacity(scenarios.len());
    for s in &scenarios {
        let r = <scenario::Scenario as serde::Deserialize>::deserialize(FromPython {
            obj: s,
            depth: 0,
        });
        read.push(r.map_err(|e| not_answered(e.to_string()))?);
    }
    let t_read = us(t);
    let t = Instant::now();
    let mut texts = Vec::with_capacity(read.len());
    for s in &read {
        texts.push(scenario::answer_scenario(1, s).map_err(|e| not_answered(e.to_string()))?);
    }
    let t_model = us(t);
    let t = Instant::now();
    let mut objects = Vec::with_capacity(texts.len());
    for text in &texts {
        objects.push(loads(py, text)?);
    }
    let t_to_python = us(t);
    let t = Instant::now();
    let mut lines = Vec::with_capacity(scenarios.len());
    for s in &scenarios {
        lines.push(dict_line(s)?);
    }
    let t_line = us(t);
    let t = Instant::now();
    for line in &lines {
        scenario::Scenario::from_json_line(line).map_err(|e| not_answered(e.to_string()))?;
    }
    let t_parse = us(t);
    Ok(vec![
        (
            "dict -> Scenario (the model's Deserialize over Python objects)".into(),
            t_read,
        ),
        (
            "the model: run, and its answer line (answer_scenario)".into(),
            t_model,
        ),
        ("answer line -> dicts".into(), t_to_python),
        ("(not on run's path) dict -> JSON line".into(), t_line),
        ("(not on run's path) JSON line -> Scenario".into(), t_parse),
    ])
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(_profile, m)?)?;
    m.add_function(wrap_pyfunction!(run_line, m)?)?;
    m.add_function(wrap_pyfunction!(scenario_line, m)?)?;
    m.add_function(wrap_pyfunction!(schemas_json, m)?)?;
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add("CONTRACT_VERSION", scenario::CONTRACT)?;
    Ok(())
}
