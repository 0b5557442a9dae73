//! Task-augmented tool calls (extension `io.modelcontextprotocol/tasks`, SEP-2663): the table
//! of a serving task's tasks. A task-capable tool called by a client that declares the
//! extension answers at once with a `CreateTaskResult`; its handler keeps running, and the
//! client follows it with `tasks/get` (status, then the inlined `result` or `error`), answers
//! its input requests with `tasks/update`, and stops it with `tasks/cancel`.
//!
//! Every status change goes through [`allowed`], the one table of transitions. The table is
//! bounded ([`MAX_TASKS`]; the oldest finished task makes room, and when every task still
//! runs a new one is refused) and every task expires [`TASK_TTL`] after its last change.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::types::tasks::{GetTaskResult, Task};
use mcp_proto::types::{InputRequest, InputRequests, InputResponse, JsonObject, TaskStatus};
use serde_json::Value;

use crate::server::InputError;

/// The most tasks one serving task keeps.
pub(crate) const MAX_TASKS: usize = 1024;
/// How long a task stays readable after its last change (its `ttlMs`).
pub(crate) const TASK_TTL: Duration = Duration::from_secs(600);
/// The polling interval suggested to clients.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Where the answer to one of a task's input requests goes.
pub(crate) type Reply = crate::channel::Sender<Result<InputResponse, InputError>>;

/// Why a task operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TaskError {
    /// No such task (never created, or expired).
    #[error("unknown task: {0}")]
    Unknown(String),
    /// The table is full of running tasks.
    #[error("too many running tasks (at most {MAX_TASKS})")]
    Full,
    /// The status change is not in the transition table.
    #[error("a {from:?} task cannot become {to:?}")]
    Transition {
        /// The current status.
        from: TaskStatus,
        /// The refused one.
        to: TaskStatus,
    },
}

/// The transitions of a task's status: `working` and `input_required` alternate and end in
/// one of the terminal statuses, which never change.
pub(crate) fn allowed(from: TaskStatus, to: TaskStatus) -> bool {
    use TaskStatus::{Cancelled, Completed, Failed, InputRequired, Working};
    matches!(
        (from, to),
        (Working, InputRequired | Completed | Failed | Cancelled)
            | (InputRequired, Working | Completed | Failed | Cancelled)
    )
}

struct Entry {
    task: Task,
    changed: Instant,
    /// Input requests waiting for the client's `tasks/update`, by key.
    pending: BTreeMap<String, (InputRequest, Reply)>,
    /// Every input key the task has used (keys are unique over its lifetime).
    used_keys: Vec<String>,
    result: Option<JsonObject>,
    error: Option<JsonObject>,
}

/// The tasks of one serving task.
#[derive(Default)]
pub(crate) struct TaskTable {
    entries: BTreeMap<String, Entry>,
}

impl TaskTable {
    /// Creates a `working` task under `task_id` (unguessable: the caller mints it).
    pub(crate) fn create(
        &mut self,
        now: Instant,
        wall: SystemTime,
        task_id: String,
    ) -> Result<Task, TaskError> {
        self.evict(now);
        if self.entries.len() >= MAX_TASKS {
            let oldest_finished = self
                .entries
                .iter()
                .filter(|(_, e)| e.task.status.is_terminal())
                .min_by_key(|(_, e)| e.changed)
                .map(|(id, _)| id.clone());
            match oldest_finished {
                Some(id) => {
                    self.entries.remove(&id);
                }
                None => return Err(TaskError::Full),
            }
        }
        let stamp = iso8601(wall);
        let task = Task {
            task_id: task_id.clone(),
            status: TaskStatus::Working,
            status_message: None,
            created_at: stamp.clone(),
            last_updated_at: stamp,
            ttl_ms: Some(millis(TASK_TTL)),
            poll_interval_ms: Some(millis(POLL_INTERVAL)),
        };
        self.entries.insert(
            task_id,
            Entry {
                task: task.clone(),
                changed: now,
                pending: BTreeMap::new(),
                used_keys: Vec::new(),
                result: None,
                error: None,
            },
        );
        Ok(task)
    }

    /// The `tasks/get` answer for `task_id`.
    pub(crate) fn get(&self, task_id: &str) -> Result<GetTaskResult, TaskError> {
        let entry = self.entry(task_id)?;
        let input_requests = (entry.task.status == TaskStatus::InputRequired).then(|| {
            entry
                .pending
                .iter()
                .map(|(key, (request, _))| (key.clone(), request.clone()))
                .collect::<InputRequests>()
        });
        Ok(GetTaskResult {
            task: entry.task.clone(),
            input_requests,
            result: entry.result.clone(),
            error: entry.error.clone(),
            ..GetTaskResult::default()
        })
    }

    /// Whether a new task would be refused ([`TaskError::Full`]): the table is full of
    /// running tasks.
    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() >= MAX_TASKS
            && self.entries.values().all(|e| !e.task.status.is_terminal())
    }

    /// Whether `task_id` is live and not finished.
    #[cfg(test)]
    pub(crate) fn is_running(&self, task_id: &str) -> bool {
        self.entries
            .get(task_id)
            .is_some_and(|e| !e.task.status.is_terminal())
    }

    /// Records the handler's answer: a result completes the task (a tool result with
    /// `isError` too), a JSON-RPC error fails it.
    pub(crate) fn finish(
        &mut self,
        now: Instant,
        wall: SystemTime,
        task_id: &str,
        answer: Result<Value, ErrorObject>,
    ) -> Result<(), TaskError> {
        let (status, result, error) = match answer {
            Ok(Value::Object(result)) => (TaskStatus::Completed, Some(result), None),
            Ok(other) => {
                let mut result = JsonObject::new();
                result.insert("value".into(), other);
                (TaskStatus::Completed, Some(result), None)
            }
            Err(error) => {
                let error = match serde_json::to_value(&error) {
                    Ok(Value::Object(object)) => object,
                    _ => JsonObject::new(),
                };
                (TaskStatus::Failed, None, Some(error))
            }
        };
        self.set_status(now, wall, task_id, status)?;
        let entry = self.entry_mut(task_id)?;
        entry.result = result;
        entry.error = error;
        Ok(())
    }

    /// The handler asks the client: the task waits in `input_required` with these requests
    /// (added to any still pending). A key already used by this task gets a fresh one.
    pub(crate) fn require_input(
        &mut self,
        now: Instant,
        wall: SystemTime,
        task_id: &str,
        asks: Vec<(Option<String>, InputRequest, Reply)>,
    ) -> Result<(), TaskError> {
        let entry = self.entry_mut(task_id)?;
        for (index, (key, request, reply)) in asks.into_iter().enumerate() {
            let mut key = key
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| format!("input-{}-{index}", entry.used_keys.len()));
            while entry.used_keys.contains(&key) {
                key.push('_');
            }
            entry.used_keys.push(key.clone());
            entry.pending.insert(key, (request, reply));
        }
        if entry.task.status == TaskStatus::InputRequired {
            entry.changed = now;
            entry.task.last_updated_at = iso8601(wall);
            return Ok(());
        }
        self.set_status(now, wall, task_id, TaskStatus::InputRequired)
    }

    /// The client's `tasks/update`: each answer under a pending key goes to its asker (one
    /// that is no input response as [`InputError::InvalidAnswer`]); other keys are ignored,
    /// whatever they hold. Once nothing is pending the task works again. Returns whether it
    /// answered anything (the task changed).
    pub(crate) fn update(
        &mut self,
        now: Instant,
        wall: SystemTime,
        task_id: &str,
        responses: &JsonObject,
    ) -> Result<bool, TaskError> {
        let entry = self.entry_mut(task_id)?;
        let mut answered = false;
        for (key, value) in responses {
            if let Some((_, reply)) = entry.pending.remove(key) {
                answered = true;
                let answer = serde_json::from_value::<InputResponse>(value.clone())
                    .map_err(|e| InputError::InvalidAnswer(format!("{key}: {e}")));
                let _ = reply.try_send(answer);
            }
        }
        if !answered {
            return Ok(false);
        }
        if entry.pending.is_empty() && entry.task.status == TaskStatus::InputRequired {
            self.set_status(now, wall, task_id, TaskStatus::Working)?;
        } else {
            entry.changed = now;
            entry.task.last_updated_at = iso8601(wall);
        }
        Ok(true)
    }

    /// The client's `tasks/cancel`: a running task becomes `cancelled` (returns true: stop its
    /// handler); a finished one stays as it is.
    pub(crate) fn cancel(
        &mut self,
        now: Instant,
        wall: SystemTime,
        task_id: &str,
    ) -> Result<bool, TaskError> {
        if self.entry(task_id)?.task.status.is_terminal() {
            return Ok(false);
        }
        self.set_status(now, wall, task_id, TaskStatus::Cancelled)?;
        let entry = self.entry_mut(task_id)?;
        entry.pending.clear();
        Ok(true)
    }

    /// Drops the tasks not changed for [`TASK_TTL`]; returns their ids.
    pub(crate) fn evict(&mut self, now: Instant) -> Vec<String> {
        let expired: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| now.saturating_duration_since(e.changed) >= TASK_TTL)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            self.entries.remove(id);
        }
        expired
    }

    fn set_status(
        &mut self,
        now: Instant,
        wall: SystemTime,
        task_id: &str,
        to: TaskStatus,
    ) -> Result<(), TaskError> {
        let entry = self.entry_mut(task_id)?;
        let from = entry.task.status;
        if !allowed(from, to) {
            return Err(TaskError::Transition { from, to });
        }
        entry.task.status = to;
        entry.task.last_updated_at = iso8601(wall);
        entry.changed = now;
        Ok(())
    }

    fn entry(&self, task_id: &str) -> Result<&Entry, TaskError> {
        self.entries
            .get(task_id)
            .ok_or_else(|| TaskError::Unknown(task_id.to_owned()))
    }

    fn entry_mut(&mut self, task_id: &str) -> Result<&mut Entry, TaskError> {
        self.entries
            .get_mut(task_id)
            .ok_or_else(|| TaskError::Unknown(task_id.to_owned()))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `wall` as an RFC 3339 UTC timestamp with milliseconds (`2026-07-28T12:00:00.000Z`).
pub(crate) fn iso8601(wall: SystemTime) -> String {
    let since = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use mcp_proto::jsonrpc::ErrorCode;
    use serde_json::json;

    use super::*;

    fn elicit() -> InputRequest {
        serde_json::from_value(json!({"method": "elicitation/create", "params": {
            "message": "ok?", "requestedSchema": {"type": "object", "properties": {}}
        }}))
        .unwrap()
    }

    fn responses(value: Value) -> JsonObject {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_transition_table_ends_in_terminal_statuses() {
        use TaskStatus::{Cancelled, Completed, Failed, InputRequired, Working};
        let all = [Working, InputRequired, Completed, Failed, Cancelled];
        for from in all {
            for to in all {
                let expected = !from.is_terminal() && to != from && to != Working
                    || (from == InputRequired && to == Working);
                assert_eq!(allowed(from, to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn a_task_asks_is_answered_partially_then_completes() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut table = TaskTable::default();
        let task = table.create(now, wall, "t1".into()).unwrap();
        assert_eq!(task.status, TaskStatus::Working);
        assert_eq!(task.ttl_ms, Some(600_000));
        let (a, a_answer) = crate::channel::bounded(1);
        let (b, b_answer) = crate::channel::bounded(1);
        table
            .require_input(
                now,
                wall,
                "t1",
                vec![
                    (Some("a".into()), elicit(), a),
                    (Some("b".into()), elicit(), b),
                ],
            )
            .unwrap();
        let got = table.get("t1").unwrap();
        assert_eq!(got.task.status, TaskStatus::InputRequired);
        assert_eq!(got.input_requests.as_ref().unwrap().len(), 2);

        // One answer (plus an unknown key holding anything, ignored): still waiting for the
        // other.
        let partial = responses(json!({
            "a": {"action": "accept", "content": {}},
            "zzz": {"ignored": true}
        }));
        assert!(table.update(now, wall, "t1", &partial).unwrap());
        assert!(a_answer.try_recv().unwrap().is_ok());
        let got = table.get("t1").unwrap();
        assert_eq!(got.task.status, TaskStatus::InputRequired);
        let keys: Vec<_> = got.input_requests.unwrap().into_keys().collect();
        assert_eq!(keys, ["b"]);

        // An answer that is no input response reaches its asker as an invalid answer.
        let wrong = responses(json!({"b": 12345}));
        assert!(table.update(now, wall, "t1", &wrong).unwrap());
        assert!(matches!(
            b_answer.try_recv().unwrap(),
            Err(InputError::InvalidAnswer(_))
        ));
        assert_eq!(table.get("t1").unwrap().task.status, TaskStatus::Working);

        // A reused key gets a fresh one (keys are unique over the task's life).
        let (c, _c_answer) = crate::channel::bounded(1);
        table
            .require_input(now, wall, "t1", vec![(Some("a".into()), elicit(), c)])
            .unwrap();
        let keys: Vec<_> = table
            .get("t1")
            .unwrap()
            .input_requests
            .unwrap()
            .into_keys()
            .collect();
        assert_eq!(keys, ["a_"]);
        table
            .finish(now, wall, "t1", Ok(json!({"content": [], "isError": true})))
            .unwrap();
        let got = table.get("t1").unwrap();
        assert_eq!(got.task.status, TaskStatus::Completed);
        assert_eq!(got.result.unwrap()["isError"], true);
        assert!(got.input_requests.is_none());
        // Finished is final: cancelling acknowledges without a change.
        assert!(!table.cancel(now, wall, "t1").unwrap());
        assert_eq!(table.get("t1").unwrap().task.status, TaskStatus::Completed);
        assert_eq!(
            table.finish(now, wall, "t1", Ok(json!({}))),
            Err(TaskError::Transition {
                from: TaskStatus::Completed,
                to: TaskStatus::Completed
            })
        );
    }

    #[test]
    fn errors_fail_cancel_stops_unknown_ids_and_expiry() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut table = TaskTable::default();
        table.create(now, wall, "f".into()).unwrap();
        let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "boom");
        table.finish(now, wall, "f", Err(error)).unwrap();
        let got = table.get("f").unwrap();
        assert_eq!(got.task.status, TaskStatus::Failed);
        assert_eq!(got.error.unwrap()["code"], -32603);
        assert!(got.result.is_none());

        table.create(now, wall, "c".into()).unwrap();
        assert!(table.cancel(now, wall, "c").unwrap());
        assert_eq!(table.get("c").unwrap().task.status, TaskStatus::Cancelled);
        assert!(!table.is_running("c"));

        assert_eq!(
            table.get("nope").unwrap_err(),
            TaskError::Unknown("nope".into())
        );
        assert!(table.cancel(now, wall, "nope").is_err());

        let later = now + TASK_TTL;
        let mut expired = table.evict(later);
        expired.sort();
        assert_eq!(expired, ["c", "f"]);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn the_table_is_bounded_by_running_tasks() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut table = TaskTable::default();
        for index in 0..MAX_TASKS {
            table.create(now, wall, format!("t{index}")).unwrap();
        }
        assert_eq!(table.create(now, wall, "over".into()), Err(TaskError::Full));
        // A finished task makes room.
        table.cancel(now, wall, "t7").unwrap();
        table.create(now, wall, "over".into()).unwrap();
        assert_eq!(table.len(), MAX_TASKS);
        assert!(table.get("t7").is_err());
    }

    #[test]
    fn timestamps_are_rfc_3339() {
        let wall = UNIX_EPOCH + Duration::from_millis(1_785_240_000_123);
        assert_eq!(iso8601(wall), "2026-07-28T12:00:00.123Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
