//! Request bodies as named text fields, from a form (URL-encoded or multipart) or JSON.
//!
//! The original takes forms; scripts prefer JSON; browsers' `FormData` sends multipart.
//! All three end up as the same [`Fields`], so each handler names what it requires and
//! a missing or mistyped field gets a 400 that names it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;

use super::error::ApiError;

/// Named fields in arrival order; a name sent twice counts with its last value. A body
/// holds a handful of fields, so a list searched from the end is cheaper than a map.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A field that must be present (it may be empty; parsing decides about that).
    pub fn require(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name).ok_or(ApiError::MissingField(name))
    }

    /// The first present of several names (`amount` in forms, `value` in JSON).
    pub fn require_any(&self, names: &[&'static str]) -> Result<&str, ApiError> {
        names
            .iter()
            .find_map(|n| self.get(n))
            .ok_or(ApiError::MissingField(names[0]))
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

impl Fields {
    /// A JSON object's fields: strings as they are, arrays of strings joined with commas
    /// (`nodes`), nulls left out; anything else is refused by name.
    ///
    /// # Errors
    /// A body that is not an object, or a field of another kind.
    pub fn from_json(value: serde_json::Value) -> Result<Fields, ApiError> {
        let serde_json::Value::Object(map) = value else {
            return Err(ApiError::BadRequest("JSON body must be an object".into()));
        };
        let mut fields = Vec::with_capacity(map.len());
        for (key, value) in map {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        serde_json::Value::String(s) => Ok(s),
                        _ => Err(ApiError::BadRequest(format!(
                            "field {key} must hold strings"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                serde_json::Value::Null => continue,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "field {key} must be a string"
                    )));
                }
            };
            fields.push((key, text));
        }
        Ok(Fields(fields))
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = content_type(&request);
        match content_type.as_str() {
            "application/x-www-form-urlencoded" => {
                // Decoding a form cannot fail: bytes that are not UTF-8 once unescaped
                // become U+FFFD, as browsers and Flask do.
                let body = body(request, state).await?;
                Ok(Fields(
                    form_urlencoded::parse(&body)
                        .map(|(key, value)| (key.into_owned(), value.into_owned()))
                        .collect(),
                ))
            }
            "application/json" => {
                let body = body(request, state).await?;
                let value: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")))?;
                Fields::from_json(value)
            }
            "multipart/form-data" => {
                let mut multipart = Multipart::from_request(request, state)
                    .await
                    .map_err(|e| ApiError::BadRequest(format!("multipart body: {e}")))?;
                let mut fields = Vec::new();
                while let Some(field) = multipart
                    .next_field()
                    .await
                    .map_err(|e| ApiError::BadRequest(format!("multipart body: {e}")))?
                {
                    let Some(name) = field.name().map(str::to_owned) else {
                        continue;
                    };
                    let text = field
                        .text()
                        .await
                        .map_err(|e| ApiError::BadRequest(format!("field {name}: {e}")))?;
                    fields.push((name, text));
                }
                Ok(Fields(fields))
            }
            "" => Err(ApiError::UnsupportedMediaType(
                "no Content-Type: send a form (application/x-www-form-urlencoded) or JSON".into(),
            )),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {other} is not accepted: send a form (application/x-www-form-urlencoded or multipart/form-data) or JSON"
            ))),
        }
    }
}

/// A body as a JSON object: JSON as sent (numbers and booleans kept), a form's fields as
/// strings. For routes whose fields are not all text.
///
/// # Errors
/// As [`Fields`]: a malformed body or an unsupported content type, in words.
pub async fn object(request: Request) -> Result<serde_json::Value, ApiError> {
    if content_type(&request) == "application/json" {
        let body = body(request, &()).await?;
        return serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")));
    }
    let Fields(fields) = Fields::from_request(request, &()).await?;
    Ok(serde_json::Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect(),
    ))
}

fn content_type(request: &Request) -> String {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

async fn body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!("request body: {e}"))
        } else {
            ApiError::BadRequest(format!("request body: {e}"))
        }
    })
}
