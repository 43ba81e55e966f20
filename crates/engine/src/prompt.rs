//! Turning a sample into the chat messages sent to the model under test.
//!
//! Order: the task's system prompt, the few-shot examples as earlier user/assistant turns, then
//! the sample. Templates substitute `{input}`, `{choices}` (one lettered option per line) and
//! `{letters}` ("A, B, C, D"); other braces are left as written.

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
    (0..n).map(|i| choice_letter(i).to_string()).collect::<Vec<_>>().join(", ")
}

fn fill(template: Option<&str>, input: &str, choices: &[String]) -> String {
    match template {
        Some(t) => t
            .replace("{choices}", &format_choices(choices))
            .replace("{letters}", &letters(choices.len()))
            .replace("{input}", input),
        None if choices.is_empty() => input.to_string(),
        None => format!("{input}\n\n{}", format_choices(choices)),
    }
}

fn few_shot_turns(shots: &[FewShot], template: Option<&str>) -> Vec<Message> {
    shots
        .iter()
        .flat_map(|s| {
            [Message::user(fill(template, &s.input, &s.choices)), Message::assistant(s.target.clone())]
        })
        .collect()
}

/// The messages for one sample under one prompt spec.
pub fn render(prompt: &PromptSpec, sample: &Sample) -> Vec<Message> {
    let choices: &[String] = sample.choices.as_deref().unwrap_or(&[]);
    let template = prompt.template.as_deref();
    let mut messages = Vec::with_capacity(2 + prompt.few_shot.len() * 2);
    let has_own_system = matches!(&sample.input, Input::Messages(ms) if ms.iter().any(|m| m.role == Role::System));
    if let Some(system) = &prompt.system
        && !has_own_system
    {
        messages.push(Message::system(system.clone()));
    }
    match &sample.input {
        Input::Text(text) => {
            messages.extend(few_shot_turns(&prompt.few_shot, template));
            messages.push(Message::user(fill(template, text, choices)));
        }
        Input::Messages(conversation) => {
            // A conversation keeps its own system turn first; few-shot turns go before the
            // conversation, and the template applies to its last user turn.
            let (system, rest): (Vec<&Message>, Vec<&Message>) =
                conversation.iter().partition(|m| m.role == Role::System);
            let mut out: Vec<Message> = system.into_iter().cloned().collect();
            out.extend(few_shot_turns(&prompt.few_shot, template));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiple_choice_default_layout() {
        let mut s = Sample::new("1", "Capital of France?", "A");
        s.choices = Some(vec!["Paris".into(), "Rome".into()]);
        let m = render(&PromptSpec::default(), &s);
        assert_eq!(m, vec![Message::user("Capital of France?\n\nA. Paris\nB. Rome")]);
    }

    #[test]
    fn template_system_and_few_shot() {
        let mut s = Sample::new("1", "2+2?", "4");
        s.choices = Some(vec!["3".into(), "4".into()]);
        let p = PromptSpec {
            system: Some("Be brief.".into()),
            template: Some("Q: {input}\n{choices}\nAnswer ({letters}):".into()),
            few_shot: vec![FewShot { input: "1+1?".into(), choices: vec!["2".into(), "5".into()], target: "A".into() }],
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
        let p = PromptSpec { system: Some("ignored".into()), template: Some("[{input}]".into()), few_shot: vec![] };
        let m = render(&p, &s);
        assert_eq!(
            m,
            vec![Message::system("own system"), Message::user("hi"), Message::assistant("hello"), Message::user("[bye]")]
        );
    }
}
