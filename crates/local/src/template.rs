//! The GGUF's own Jinja chat template, rendered the way Hugging Face transformers renders it.
//!
//! llama.cpp's built-in template matcher approximates known templates and loses details (it
//! drops SmolLM2's default system prompt), so we run the template itself with minijinja, with
//! transformers' settings: `trim_blocks`, `lstrip_blocks`, Python string methods, and
//! `raise_exception`.

use minijinja::{Environment, Error, ErrorKind, context};
use touchstone_core::Message;

const NAME: &str = "chat";

#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    /// Compile a template. The error text says where the template is malformed.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, String> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_template_owned(NAME, source.to_string())
            .map_err(|e| describe(&e))?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.into(),
            eos_token: eos_token.into(),
        })
    }

    /// The prompt for `messages`, ending with the assistant's turn opener.
    pub fn render(&self, messages: &[Message]) -> Result<String, String> {
        let messages: Vec<_> = messages
            .iter()
            .map(|m| context! { role => m.role.as_str(), content => m.content.as_str() })
            .collect();
        let tmpl = self.env.get_template(NAME).map_err(|e| describe(&e))?;
        tmpl.render(context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
        })
        .map_err(|e| describe(&e))
    }

    pub fn bos_token(&self) -> &str {
        &self.bos_token
    }
}

fn describe(e: &Error) -> String {
    let mut s = e.to_string();
    if let Some(line) = e.line() {
        s.push_str(&format!(" (template line {line})"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tokenizer.chat_template` of SmolLM2-135M-Instruct.Q4_1.gguf, byte for byte.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn smollm2() -> ChatTemplate {
        ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>").unwrap()
    }

    #[test]
    fn smollm2_adds_its_default_system_prompt() {
        let got = smollm2().render(&[Message::user("What is 2+2?")]).unwrap();
        assert_eq!(
            got,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
             <|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn smollm2_keeps_a_given_system_prompt() {
        let got = smollm2()
            .render(&[
                Message::system("Answer with one word."),
                Message::user("Capital of France?"),
                Message::assistant("Paris"),
                Message::user("And Italy?"),
            ])
            .unwrap();
        assert_eq!(
            got,
            "<|im_start|>system\nAnswer with one word.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n\
             <|im_start|>assistant\nParis<|im_end|>\n<|im_start|>user\nAnd Italy?<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_methods_and_raise_exception_work() {
        let t = ChatTemplate::new(
            "{% for m in messages %}{% if m['role'] == 'assistant' %}{{ raise_exception('no assistant turns') }}{% endif %}{{ m['content'].strip().upper() }}{% endfor %}",
            "",
            "",
        )
        .unwrap();
        assert_eq!(t.render(&[Message::user("  hi  ")]).unwrap(), "HI");
        let err = t.render(&[Message::assistant("x")]).unwrap_err();
        assert!(err.contains("no assistant turns"), "{err}");
    }

    #[test]
    fn trims_blocks_like_transformers() {
        let t = ChatTemplate::new("{% for m in messages %}\n  {% if true %}\n{{ m['content'] }}\n  {% endif %}\n{% endfor %}", "", "").unwrap();
        assert_eq!(
            t.render(&[Message::user("a"), Message::user("b")]).unwrap(),
            "a\nb\n"
        );
    }

    #[test]
    fn malformed_template_is_an_error() {
        let err = ChatTemplate::new("{% for m in messages %}", "", "").unwrap_err();
        assert!(err.contains("line"), "{err}");
    }
}
