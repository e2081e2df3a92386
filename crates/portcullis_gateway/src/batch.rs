//! The answers to a client's batch, gathered into one array: JSON-RPC 2.0 answers a batch with
//! one array holding every response. Gathering is needed when the gateway answers part of a
//! batch itself (a refusal) or holds a call of it while the user is asked (`action = "ask"`):
//! the rest goes on to the server at once, and the array is written once every answer is in.
//!
//! Bounded: each awaited answer comes within the request timeout or the ask timeout (the judge
//! answers what times out, through the same path), and a gateway that stops flushes what it
//! has ([`Batches::drain`]). The trade-off: while a batch gathers, every response for the client
//! is looked at (parsed, when it came from the server as bytes); with none gathering, the check
//! is one atomic load and the bytes pass untouched.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::judge::{id_key, lock};

/// The batches being gathered, for one session.
#[derive(Default)]
pub(crate) struct Batches {
    inner: Mutex<Inner>,
    /// How many batches are gathering (read without the lock on every message).
    open: AtomicUsize,
}

#[derive(Default)]
struct Inner {
    next: u64,
    /// The batch each awaited response key belongs to.
    by_key: HashMap<String, u64>,
    gathering: HashMap<u64, Gathering>,
}

struct Gathering {
    answers: Vec<Value>,
    waiting: usize,
}

impl Batches {
    /// Starts gathering a batch: `answers` are known now, the responses with `keys` are awaited.
    /// Returns the arrays to send now: this one when nothing is awaited (none for a batch of
    /// notifications), and an older one that an id reused here left with nothing to wait for.
    pub(crate) fn open(&self, answers: Vec<Value>, keys: Vec<String>) -> Vec<Value> {
        if keys.is_empty() {
            return if answers.is_empty() {
                Vec::new()
            } else {
                vec![Value::Array(answers)]
            };
        }
        let mut inner = lock(&self.inner);
        inner.next += 1;
        let no = inner.next;
        let mut waiting = 0;
        let mut done = Vec::new();
        for key in keys {
            // Ids are unique among requests in flight; should one not be, the newer batch gets
            // its answer and the older stops waiting for it (rather than waiting forever).
            if let Some(older) = inner.by_key.insert(key, no)
                && let Some(g) = inner.gathering.get_mut(&older)
            {
                g.waiting = g.waiting.saturating_sub(1);
                if g.waiting == 0
                    && let Some(g) = inner.gathering.remove(&older)
                {
                    done.push(Value::Array(g.answers));
                }
            }
            waiting += 1;
        }
        inner.gathering.insert(no, Gathering { answers, waiting });
        self.open.store(inner.gathering.len(), Ordering::Release);
        done
    }

    /// Whether any batch is gathering.
    pub(crate) fn any(&self) -> bool {
        self.open.load(Ordering::Acquire) > 0
    }

    /// Offers one message for the client. `Err` gives it back when it belongs to no batch;
    /// `Ok(Some(array))` is a batch it completed, to send; `Ok(None)` means it was kept.
    pub(crate) fn offer(&self, msg: Value) -> Result<Option<Value>, Value> {
        if msg.get("method").is_some() {
            return Err(msg);
        }
        let Some(key) = msg.get("id").filter(|id| !id.is_null()).map(id_key) else {
            return Err(msg);
        };
        let mut inner = lock(&self.inner);
        let Some(no) = inner.by_key.remove(&key) else {
            return Err(msg);
        };
        let Some(g) = inner.gathering.get_mut(&no) else {
            return Err(msg);
        };
        g.answers.push(msg);
        g.waiting = g.waiting.saturating_sub(1);
        if g.waiting > 0 {
            return Ok(None);
        }
        let done = inner.gathering.remove(&no).map(|g| Value::Array(g.answers));
        self.open.store(inner.gathering.len(), Ordering::Release);
        Ok(done)
    }

    /// Offers every member of a message (one, or an array of them) and returns what to send:
    /// the members no batch took (together, as they came) and the batches they completed.
    pub(crate) fn route(&self, msg: Value) -> Vec<Value> {
        let mut out = Vec::new();
        match msg {
            Value::Array(items) => {
                let mut rest = Vec::new();
                for item in items {
                    match self.offer(item) {
                        Ok(done) => out.extend(done),
                        Err(item) => rest.push(item),
                    }
                }
                if !rest.is_empty() {
                    out.insert(0, Value::Array(rest));
                }
            }
            msg => match self.offer(msg) {
                Ok(done) => out.extend(done),
                Err(msg) => out.push(msg),
            },
        }
        out
    }

    /// The arrays of every batch still gathering, as they are (the gateway is stopping).
    pub(crate) fn drain(&self) -> Vec<Value> {
        let mut inner = lock(&self.inner);
        inner.by_key.clear();
        let mut all: Vec<(u64, Gathering)> = inner.gathering.drain().collect();
        self.open.store(0, Ordering::Release);
        all.sort_by_key(|(no, _)| *no);
        all.into_iter()
            .filter(|(_, g)| !g.answers.is_empty())
            .map(|(_, g)| Value::Array(g.answers))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(id: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "result": {}})
    }

    #[test]
    fn a_batch_is_sent_once_every_answer_is_in() {
        let b = Batches::default();
        assert!(!b.any());
        let refusal =
            json!({"jsonrpc": "2.0", "id": 2, "error": {"code": -32001, "message": "no"}});
        assert!(
            b.open(
                vec![refusal.clone()],
                vec![id_key(&json!(1)), id_key(&json!("h"))]
            )
            .is_empty()
        );
        assert!(b.any());
        // Not part of the batch: a notification, an answer to another request.
        let note = json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {}});
        assert_eq!(b.route(note.clone()), vec![note]);
        assert_eq!(b.route(answer(json!(9))), vec![answer(json!(9))]);
        // The server's answer to the part it got, as an array with a stray member.
        assert_eq!(
            b.route(json!([answer(json!(1)), answer(json!(8))])),
            vec![json!([answer(json!(8))])]
        );
        // The held call's answer completes it: one array, in arrival order.
        assert_eq!(
            b.route(answer(json!("h"))),
            vec![json!([refusal, answer(json!(1)), answer(json!("h"))])]
        );
        assert!(!b.any());
    }

    #[test]
    fn nothing_awaited_and_draining() {
        let b = Batches::default();
        assert!(b.open(vec![], vec![]).is_empty());
        let r = answer(json!(1));
        assert_eq!(b.open(vec![r.clone()], vec![]), vec![json!([r.clone()])]);
        b.open(vec![r.clone()], vec![id_key(&json!(2))]);
        b.open(vec![], vec![id_key(&json!(3))]);
        // A reused id: the older batch stops waiting for it and is sent as it is.
        b.open(vec![r.clone()], vec![id_key(&json!(5))]);
        assert_eq!(
            b.open(vec![], vec![id_key(&json!(5))]),
            vec![json!([r.clone()])]
        );
        assert_eq!(b.route(answer(json!(5))), vec![json!([answer(json!(5))])]);
        assert_eq!(b.drain(), vec![json!([r])]);
        assert!(!b.any());
        assert_eq!(b.route(answer(json!(2))), vec![answer(json!(2))]);
    }
}
