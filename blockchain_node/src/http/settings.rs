//! `/settings`: the node's run-time settings, for the Configure page and for scripts.

use axum::Json;
use axum::extract::{Request, State};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::fields;
use crate::node::UpdateError;
use crate::settings::{MAX_BLOCK_INTERVAL, MAX_MINING_DIFFICULTY, SettingsPatch};

/// `GET /settings`: the settings, what they resolve to, and their limits.
pub async fn get(State(app): State<AppState>) -> Json<Value> {
    Json(describe(&app))
}

/// `POST /settings`: changes the settings named in the body (JSON or form); the others
/// stay. All or nothing: a field out of range gets a 400 naming it, and nothing changes.
pub async fn update(
    State(app): State<AppState>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = fields::object(request).await?;
    let patch = SettingsPatch::parse(&body).map_err(invalid)?;
    if patch.is_empty() {
        return Err(ApiError::BadRequest(
            "no setting given; the settings are background_mining, block_interval, reward_address, mining_threads, mining_difficulty".into(),
        ));
    }
    match app.node.update_settings(&patch).await {
        Ok(_) => Ok(Json(describe(&app))),
        Err(UpdateError::Invalid(error)) => Err(invalid(error)),
        Err(UpdateError::Storage(error)) => Err(error.into()),
    }
}

fn invalid(error: crate::settings::SettingError) -> ApiError {
    ApiError::Setting {
        field: error.field,
        message: error.to_string(),
    }
}

fn describe(app: &AppState) -> Value {
    let mut settings = app.node.settings().to_json();
    let limits = app.node.limits();
    settings["reward_address_in_use"] = json!(app.node.reward_address().as_hex());
    settings["node_wallet"] = json!(app.node.wallet.as_hex());
    settings["limits"] = json!({
        "block_interval": [0.0, MAX_BLOCK_INTERVAL],
        "mining_threads": [1, limits.max_threads],
        "mining_difficulty": [limits.network_difficulty.bits(), MAX_MINING_DIFFICULTY.max(limits.network_difficulty.bits())],
    });
    settings["network_difficulty"] = json!(limits.network_difficulty.bits());
    settings
}
