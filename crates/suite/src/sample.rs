//! Checks of a task's `sample:` (how its items are drawn; the draw itself is the engine's):
//! `n` at least 1, and a `stratify` label that the task's samples carry.

use touchstone_core::{DatasetSource, TaskSpec};

/// A problem with a task's `sample:`: (the keys to point at, what is wrong, what to do).
pub(crate) type Problem = (&'static [&'static str], String, Option<String>);

const AT_N: &[&str] = &["sample:", "n:"];
const AT_STRATIFY: &[&str] = &["sample:", "stratify:"];

/// Checks a task's `sample:`. The label is looked for in the task's data (after its `filter`
/// and `limit`, as the draw sees it); data that cannot be read is left to the run, which reports
/// it with its location.
pub(crate) fn check(task: &TaskSpec) -> Result<(), Problem> {
    let Some(sample) = &task.sample else {
        return Ok(());
    };
    if sample.n == 0 {
        return Err((
            AT_N,
            format!(
                "task `{}` draws `n: 0` samples, which runs none / 抽样数为 0 时不运行任何样本",
                task.name
            ),
            Some(
                "n must be 1 or more; leave `sample` out to use every sample / n 至少为 1，省略 sample 则使用全部样本"
                    .into(),
            ),
        ));
    }
    let Some(by) = &sample.stratify else {
        return Ok(());
    };
    if by.trim().is_empty() {
        return Err((
            AT_STRATIFY,
            format!("task `{}`: `stratify` is empty / 分层标签为空", task.name),
            Some(
                "name a metadata field of the samples, e.g. `stratify: risk`, or leave it out for a simple random draw / 请填写样本的元数据字段，或省略以简单随机抽样"
                    .into(),
            ),
        ));
    }
    let Some(rows) = read(task) else {
        return Ok(());
    };
    let mut carried = std::collections::BTreeSet::new();
    let mut lacking = None;
    for row in rows {
        if row.metadata.contains_key(by) {
            carried.insert(by.clone());
        } else {
            carried.extend(row.metadata.keys().cloned());
            lacking.get_or_insert(row.id);
        }
    }
    let Some(id) = lacking else {
        return Ok(());
    };
    let suggestion = crate::locate::suggest(by, carried.iter().map(String::as_str));
    let labels: Vec<&str> = carried.iter().map(String::as_str).collect();
    Err((
        AT_STRATIFY,
        format!(
            "task `{}`: cannot stratify by `{by}`: sample `{id}` has no `{by}` / 样本缺少分层标签 `{by}`",
            task.name
        ),
        Some(format!(
            "{}the samples carry: {}; a field of the data becomes a label when `fields.metadata` lists it / 数据字段须列入 fields.metadata 才成为标签",
            match suggestion {
                Some(s) if s != *by => format!("did you mean `{s}`? "),
                _ => String::new(),
            },
            if labels.is_empty() {
                "no labels".to_string()
            } else {
                labels.join(", ")
            }
        )),
    ))
}

/// The task's samples after its filter and limit, or `None` when the data cannot be read here.
fn read(task: &TaskSpec) -> Option<impl Iterator<Item = touchstone_core::Sample>> {
    let d = &task.dataset;
    let stream = match &d.source {
        DatasetSource::Builtin(name) => {
            touchstone_data::open_builtin_with(name, d.format, &d.fields).ok()?
        }
        DatasetSource::Path(path) => touchstone_data::open_file_with(
            path,
            d.format,
            &d.fields,
            touchstone_data::ReadOptions {
                check_duplicate_ids: false,
            },
        )
        .ok()?,
    };
    let filter = d.filter.clone();
    Some(
        stream
            .map_while(Result::ok)
            .filter(move |s| {
                filter.iter().all(|(k, want)| {
                    s.metadata.get(k).is_some_and(|v| match v {
                        serde_json::Value::String(text) => text == want,
                        other => {
                            let text = other.to_string();
                            text == *want
                        }
                    })
                })
            })
            .take(d.limit.unwrap_or(usize::MAX)),
    )
}
