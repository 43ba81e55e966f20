//! The center's API from the other side: what `touchstone center submit|status|fetch` uses so
//! that a vendor can gate its own CI on the center. A token comes from an environment variable
//! the caller names; it is never printed.

use std::time::Duration;

use serde_json::Value;

use crate::RunRequest;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the center at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The center's own error, with its code and both messages.
    #[error("the center refused ({status} {code}): {message} / {message_zh}{}", location.as_ref().map(|l| format!(" (at {l})")).unwrap_or_default())]
    Refused {
        status: u16,
        code: String,
        message: String,
        message_zh: String,
        location: Option<String>,
    },
    #[error("the center answered something that is not its API: {0}")]
    Unexpected(String),
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// `base`: the center's address (`http://127.0.0.1:8080`).
    pub fn new(base: &str, token: String) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| ClientError::Unexpected(text.chars().take(200).collect()))?;
        if status >= 400 {
            let e = &value["error"];
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            return Err(ClientError::Refused {
                status,
                code: s("code"),
                message: s("message"),
                message_zh: s("message_zh"),
                location: e["location"].as_str().map(str::to_string),
            });
        }
        Ok(value)
    }

    /// A model id: `m_…` as given, or the id of the one visible model with this name.
    pub async fn model_id(&self, name_or_id: &str) -> Result<String, ClientError> {
        if name_or_id.starts_with("m_") {
            return Ok(name_or_id.to_string());
        }
        let models = self.call(reqwest::Method::GET, "/models", None).await?;
        let found: Vec<&Value> = models["models"]
            .as_array()
            .map(|a| a.iter().filter(|m| m["name"] == name_or_id).collect())
            .unwrap_or_default();
        match found.as_slice() {
            [one] => Ok(one["id"].as_str().unwrap_or_default().to_string()),
            [] => Err(ClientError::Refused {
                status: 404,
                code: "not_found".into(),
                message: format!("no registered model named `{name_or_id}`"),
                message_zh: "没有该名称的模型".into(),
                location: Some("--model".into()),
            }),
            _ => Err(ClientError::Refused {
                status: 400,
                code: "bad_request".into(),
                message: format!("several models are named `{name_or_id}`: give its id (m_…)"),
                message_zh: "有多个同名模型，请给出模型 id".into(),
                location: Some("--model".into()),
            }),
        }
    }

    /// Submits a run; its id.
    pub async fn submit(&self, request: &RunRequest) -> Result<String, ClientError> {
        let body =
            serde_json::to_value(request).map_err(|e| ClientError::Unexpected(e.to_string()))?;
        let answer = self
            .call(reqwest::Method::POST, "/runs", Some(body))
            .await?;
        answer["run_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ClientError::Unexpected(answer.to_string()))
    }

    /// A run's status and progress.
    pub async fn run(&self, id: &str) -> Result<Value, ClientError> {
        self.call(reqwest::Method::GET, &format!("/runs/{id}"), None)
            .await
    }

    /// A run's results (the engine's `results.json`).
    pub async fn results(&self, id: &str) -> Result<Value, ClientError> {
        self.call(reqwest::Method::GET, &format!("/runs/{id}/results"), None)
            .await
    }
}
