//! Turning a sample into the chat messages sent to the model under test.
//!
//! Order: the task's system prompt, the few-shot examples as earlier user/assistant turns, then
//! the sample. Templates substitute `{input}`, `{choices}` (one lettered option per line) and
//! `{letters}` ("A, B, C, D") in one pass (so a question that itself contains `{choices}` stays as
//! written); `{{` and `}}` are literal braces; other braces are left as written.

use touchstone_core::{FewShot, Input, Message, PromptSpec, Role, Sample, choice_letter};

/// Lettered options, one per line: "A. Paris\nB. Rome".
pub fn format_choices(choices: &[String]) -> String {
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}. {}", choice_letter(i), c))
        .collect::<Vec<_>>()
        .join("\n")
}

fn letters(n: usize) -> String {
    (0..n)
        .map(|i| choice_letter(i).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with each `{name}` that `value` knows replaced, in one pass over the template only,
/// and `{{` / `}}` as literal braces.
fn substitute(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(end) = tail.find('}').filter(|_| tail.starts_with('{'))
            && let Some(v) = value(&tail[1..end])
        {
            out.push_str(&v);
            rest = &tail[end + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

fn fill(template: Option<&str>, input: &str, choices: &[String]) -> String {
    match template {
        Some(t) => substitute(t, |name| match name {
            "input" => Some(input.to_string()),
            "choices" => Some(format_choices(choices)),
            "letters" => Some(letters(choices.len())),
            _ => None,
        }),
        None if choices.is_empty() => input.to_string(),
        None => format!("{input}\n\n{}", format_choices(choices)),
    }
}

fn few_shot_turns(shots: &[FewShot], template: Option<&str>) -> Vec<Message> {
    shots
        .iter()
        .flat_map(|s| {
            [
                Message::user(fill(template, &s.input, &s.choices)),
                Message::assistant(s.target.clone()),
            ]
        })
        .collect()
}

/// The task description with `{subject}` filled from the sample (underscores as spaces, as
/// lm-evaluation-harness writes MMLU's subjects).
fn description(prompt: &PromptSpec, sample: &Sample) -> Option<String> {
    let field = |k: &str| {
        sample
            .metadata
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let subject = field("subject").replace('_', " ");
    prompt.description.as_ref().map(|d| {
        substitute(d, |name| match name {
            "subject" => Some(subject.clone()),
            "subject_zh" => Some(field("subject_zh")),
            _ => None,
        })
    })
}

/// The messages for one sample under one prompt spec.
pub fn render(prompt: &PromptSpec, sample: &Sample) -> Vec<Message> {
    render_with(prompt, sample, &[])
}

/// As [`render`], with worked examples drawn for this sample (`few_shot_from`) after the
/// prompt's own.
pub fn render_with(prompt: &PromptSpec, sample: &Sample, drawn: &[FewShot]) -> Vec<Message> {
    let choices: &[String] = sample.choices.as_deref().unwrap_or(&[]);
    let template = prompt.template.as_deref();
    let shots: Vec<FewShot> = prompt.few_shot.iter().chain(drawn).cloned().collect();
    let mut messages = Vec::with_capacity(2 + shots.len() * 2);
    let has_own_system =
        matches!(&sample.input, Input::Messages(ms) if ms.iter().any(|m| m.role == Role::System));
    let system = match (&prompt.system, description(prompt, sample)) {
        (Some(s), Some(d)) => Some(format!("{s}\n\n{d}")),
        (s, d) => s.clone().or(d),
    };
    if let Some(system) = system
        && !has_own_system
    {
        messages.push(Message::system(system));
    }
    match &sample.input {
        Input::Text(text) => {
            messages.extend(few_shot_turns(&shots, template));
            messages.push(Message::user(fill(template, text, choices)));
        }
        Input::Messages(conversation) => {
            // A conversation keeps its own system turn first; few-shot turns go before the
            // conversation, and the template applies to its last user turn.
            let (system, rest): (Vec<&Message>, Vec<&Message>) =
                conversation.iter().partition(|m| m.role == Role::System);
            let mut out: Vec<Message> = system.into_iter().cloned().collect();
            out.extend(few_shot_turns(&shots, template));
            let last_user = rest.iter().rposition(|m| m.role == Role::User);
            for (i, m) in rest.into_iter().enumerate() {
                if Some(i) == last_user {
                    out.push(Message::user(fill(template, &m.content, choices)));
                } else {
                    out.push(m.clone());
                }
            }
            messages.extend(out);
        }
    }
    messages
}

/// The plain-text prompt for log-likelihood multiple choice, laid out as lm-evaluation-harness
/// does: the description, each worked example as question + target delimiter + answer +
/// few-shot delimiter, then the question. The question text is trimmed (lm-eval's
/// `question.strip()`).
pub fn render_text(prompt: &PromptSpec, sample: &Sample, drawn: &[FewShot]) -> String {
    let template = prompt.template.as_deref();
    let target_delimiter = prompt.target_delimiter.as_deref().unwrap_or(" ");
    let fewshot_delimiter = prompt.fewshot_delimiter.as_deref().unwrap_or("\n\n");
    let mut out = description(prompt, sample).unwrap_or_default();
    for shot in prompt.few_shot.iter().chain(drawn) {
        out.push_str(&fill(template, shot.input.trim(), &shot.choices));
        out.push_str(target_delimiter);
        out.push_str(&shot.target);
        out.push_str(fewshot_delimiter);
    }
    let choices: &[String] = sample.choices.as_deref().unwrap_or(&[]);
    out.push_str(&fill(template, sample.input.text().trim(), choices));
    out
}

/// A sample as a worked example: its question, options and first target.
pub fn as_shot(sample: &Sample) -> FewShot {
    FewShot {
        input: sample.input.text().to_string(),
        choices: sample.choices.clone().unwrap_or_default(),
        target: sample.target.0.first().cloned().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_double_braces_are_literal() {
        let choices = vec!["{input}".to_string(), "b".to_string()];
        // A question or an option that contains a placeholder's text is sent as written.
        assert_eq!(
            fill(
                Some("Q: {input}\n{choices}\n({letters})"),
                "why {letters}?",
                &choices
            ),
            "Q: why {letters}?\nA. {input}\nB. b\n(A, B)"
        );
        assert_eq!(
            fill(Some("{{input}} is {input}; {{x}} {x} {y"), "q", &[]),
            "{input} is q; {x} {x} {y"
        );
        assert_eq!(
            fill(Some("JSON {\"a\": 1} }} {input}"), "q", &[]),
            "JSON {\"a\": 1} } q"
        );
    }

    #[test]
    fn plain_text_layout_matches_lm_evaluation_harness_mmlu() {
        let p = PromptSpec {
            description: Some(
                "The following are multiple choice questions (with answers) about {subject}.\n\n"
                    .into(),
            ),
            template: Some("{input}\n{choices}\nAnswer:".into()),
            ..Default::default()
        };
        let mut s = Sample::new("astronomy/0", " What is the Sun? ", "B");
        s.choices = Some(vec!["A planet".into(), "A star".into()]);
        s.metadata
            .insert("subject".into(), serde_json::json!("college_astronomy"));
        let mut shot = Sample::new("d/0", "What is the Moon?", "A");
        shot.choices = Some(vec!["A satellite".into(), "A star".into()]);
        let text = render_text(&p, &s, &[as_shot(&shot)]);
        assert_eq!(
            text,
            "The following are multiple choice questions (with answers) about college astronomy.\n\n\
             What is the Moon?\nA. A satellite\nB. A star\nAnswer: A\n\n\
             What is the Sun?\nA. A planet\nB. A star\nAnswer:"
        );
    }

    #[test]
    fn multiple_choice_default_layout() {
        let mut s = Sample::new("1", "Capital of France?", "A");
        s.choices = Some(vec!["Paris".into(), "Rome".into()]);
        let m = render(&PromptSpec::default(), &s);
        assert_eq!(
            m,
            vec![Message::user("Capital of France?\n\nA. Paris\nB. Rome")]
        );
    }

    #[test]
    fn template_system_and_few_shot() {
        let mut s = Sample::new("1", "2+2?", "4");
        s.choices = Some(vec!["3".into(), "4".into()]);
        let p = PromptSpec {
            system: Some("Be brief.".into()),
            template: Some("Q: {input}\n{choices}\nAnswer ({letters}):".into()),
            few_shot: vec![FewShot {
                input: "1+1?".into(),
                choices: vec!["2".into(), "5".into()],
                target: "A".into(),
            }],
            ..Default::default()
        };
        let m = render(&p, &s);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0], Message::system("Be brief."));
        assert_eq!(m[1], Message::user("Q: 1+1?\nA. 2\nB. 5\nAnswer (A, B):"));
        assert_eq!(m[2], Message::assistant("A"));
        assert_eq!(m[3], Message::user("Q: 2+2?\nA. 3\nB. 4\nAnswer (A, B):"));
    }

    #[test]
    fn conversation_input_keeps_its_turns() {
        let s = Sample {
            input: Input::Messages(vec![
                Message::system("own system"),
                Message::user("hi"),
                Message::assistant("hello"),
                Message::user("bye"),
            ]),
            ..Sample::new("c", "", "")
        };
        let p = PromptSpec {
            system: Some("ignored".into()),
            template: Some("[{input}]".into()),
            ..Default::default()
        };
        let m = render(&p, &s);
        assert_eq!(
            m,
            vec![
                Message::system("own system"),
                Message::user("hi"),
                Message::assistant("hello"),
                Message::user("[bye]")
            ]
        );
    }
}
