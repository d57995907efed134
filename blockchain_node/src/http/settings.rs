//! `/settings`: the node's run-time settings, for the Configure page and for scripts.

use axum::Json;
use axum::extract::{Request, State};
use blockchain_api::{ErrorBody, SettingsChange, SettingsForm, SettingsLimits, SettingsView};

use super::AppState;
use super::error::ApiError;
use super::fields;
use crate::node::UpdateError;
use crate::settings::{MAX_BLOCK_INTERVAL, MAX_MINING_DIFFICULTY, SettingsPatch};

/// `GET /settings`: the settings, what they resolve to, and their limits.
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, description = "The settings", body = SettingsView)))]
pub async fn get(State(app): State<AppState>) -> Json<SettingsView> {
    Json(describe(&app))
}

/// `POST /settings`: changes the settings named in the body (JSON or form); the others
/// stay. All or nothing: a field out of range gets a 400 naming it, and nothing changes.
#[utoipa::path(post, path = "/settings", tag = "settings",
    request_body(content(
        (SettingsChange = "application/json"),
        (SettingsForm = "application/x-www-form-urlencoded"),
        (SettingsForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The settings now", body = SettingsView),
        (status = 400, description = "No setting, an unknown one, or one out of range (named in `field`)", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    request: Request,
) -> Result<Json<SettingsView>, ApiError> {
    let body = fields::object(request).await?;
    let patch = SettingsPatch::parse(&body).map_err(invalid)?;
    if patch.is_empty() {
        return Err(ApiError::BadRequest(
            "no setting given; the settings are background_mining, block_interval, reward_address, mining_threads, mining_difficulty, faucet_amount, faucet_enabled".into(),
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

fn describe(app: &AppState) -> SettingsView {
    let settings = app.node.settings();
    let limits = app.node.limits();
    let network = limits.network_difficulty.bits();
    SettingsView {
        background_mining: settings.background_mining,
        block_interval: settings.block_interval,
        faucet_amount: settings.faucet_amount,
        faucet_enabled: settings.faucet_enabled,
        limits: SettingsLimits {
            block_interval: [0.0, MAX_BLOCK_INTERVAL],
            mining_difficulty: [network, MAX_MINING_DIFFICULTY.max(network)],
            mining_threads: [1, limits.max_threads],
        },
        mining_difficulty: settings.mining_difficulty.bits(),
        mining_threads: settings.mining_threads,
        network_difficulty: network,
        node_wallet: app.node.wallet.as_hex().to_owned(),
        reward_address: settings
            .reward_address
            .as_ref()
            .map(|a| a.as_hex().to_owned()),
        reward_address_in_use: app.node.reward_address().as_hex().to_owned(),
    }
}
