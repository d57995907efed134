//! The OpenAPI document of the node's API, `GET /openapi.json`.
//!
//! Routes and document come from one place: each handler carries its `#[utoipa::path]`
//! (path, parameters, bodies, answers), and `super::router` registers the handlers with
//! utoipa-axum's `routes!`, which adds the route and its operation together. What layers
//! answer (a body too large or too late, a request too slow, a host or site refused) is
//! added here, next to nothing else, by [`refusing`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use blockchain_api::{
    BlockEvent, ChainEvent, ErrorBody, MiningProgress, PeersEvent, PendingEvent, ReorgEvent,
    StaleEvent, Status, TxRow,
};
use utoipa::OpenApi;
use utoipa::openapi::path::Paths;
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

/// The document's frame: what the handlers' operations are added to. The event stream's
/// messages are listed as components, for readers of `/events`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "blockchain node",
        description = "The miner node's API: the original tutorial's routes (they take forms) \
            and this project's additions (they also take JSON). Every refusal is an ErrorBody."
    ),
    components(schemas(
        ErrorBody,
        Status,
        MiningProgress,
        PendingEvent,
        TxRow,
        BlockEvent,
        ChainEvent,
        ReorgEvent,
        PeersEvent,
        StaleEvent
    )),
    tags(
        (name = "transactions", description = "Submitting and finding transactions"),
        (name = "mining", description = "Forging blocks"),
        (name = "chain", description = "Reading the chain; blocks from peers"),
        (name = "settings", description = "The node's run-time settings"),
        (name = "peers", description = "Registering peers and reaching consensus"),
        (name = "operator", description = "Signing in as the node's operator from another machine"),
        (name = "faucet", description = "Coins for a wallet from the node's own wallet"),
    )
)]
pub struct ApiDoc;

/// A refusal a layer answers with: its status, why, and whether it carries an
/// [`ErrorBody`] (tower-http's timeout answers with an empty body).
pub struct Refusal {
    status: StatusCode,
    why: &'static str,
    error_body: bool,
}

/// Adds to every operation in `paths` the refusals in `answers`; a status an operation
/// already documents keeps its own answer.
pub fn refusing(paths: &mut Paths, answers: &[Refusal]) {
    for item in paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for refusal in answers {
                operation
                    .responses
                    .responses
                    .entry(refusal.status.as_str().to_owned())
                    .or_insert_with(|| {
                        let response = ResponseBuilder::new().description(refusal.why);
                        let response = if refusal.error_body {
                            response.content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                        } else {
                            response
                        };
                        response.build().into()
                    });
            }
        }
    }
}

/// Gives the GET and POST operations of one handler (`/mine`, `/nodes/resolve`) ids of
/// their own: an operation id names one operation.
pub fn distinct_operation_ids(paths: &mut Paths) {
    for item in paths.paths.values_mut() {
        if let (Some(get), Some(post)) = (&mut item.get, &mut item.post)
            && get.operation_id.is_some()
            && get.operation_id == post.operation_id
        {
            let id = get.operation_id.take().unwrap_or_default();
            post.operation_id = Some(format!("{id}_post"));
            get.operation_id = Some(id);
        }
    }
}

/// What any route may answer before its handler runs: the front door refuses host names
/// this node does not answer to (and the operator's routes refuse other sites' pages).
pub const EVERY_ROUTE: &[Refusal] = &[Refusal {
    status: StatusCode::FORBIDDEN,
    why: "A host name this node does not answer to, or (on the operator's routes) a page of another site",
    error_body: true,
}];

/// What an operator's route answers a request from another machine without the token.
pub const OPERATOR: &[Refusal] = &[Refusal {
    status: StatusCode::UNAUTHORIZED,
    why: "From another machine without the operator token (`Authorization: Bearer <token>`)",
    error_body: true,
}];

/// What a route under a body limit may answer.
pub const BODY_LIMITS: &[Refusal] = &[
    Refusal {
        status: StatusCode::REQUEST_TIMEOUT,
        why: "The body did not arrive in time",
        error_body: true,
    },
    Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        why: "The body is over the route's limit",
        error_body: true,
    },
];

/// What a route under the request timeout may answer.
pub const TIMEOUT: &[Refusal] = &[Refusal {
    status: StatusCode::SERVICE_UNAVAILABLE,
    why: "The request took too long: an empty body",
    error_body: false,
}];

/// `GET /openapi.json`: the document, serialized once when the router is built.
pub fn document_response(json: &bytes::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response()
}
