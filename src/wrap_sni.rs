//! `SNICallback` and `ALPNCallback` for a server `TLSSocket` over a wrapped
//! stream.
//!
//! As in Node (`loadSNI` in `lib/_tls_wrap.js`), `SNICallback` is asked
//! only when the ClientHello names a server; its answer chooses the context
//! whose keys serve the handshake and whose `ca` judges a client
//! certificate. Without a name, or with `null`, the socket's own context
//! serves. `ALPNCallback` is asked next, when the client offered ALPN, as
//! for a `tls.Server` ([`crate::server`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::conn::{self, Event, Session, Shared, Sink};
use crate::context::{Context, Params};
use crate::error::NodeError;
use crate::server::{read_client_hello, AlpnAnswer, SniAnswer};
use crate::transport::Transport;

/// What the wrapped server needs to choose its configuration.
pub struct SniWrap {
    /// The socket's own context.
    pub context: Arc<Context>,
    /// Its TLS parameters.
    pub params: Params,
    /// `requestCert`.
    pub request_cert: bool,
    /// JavaScript's answer, asked for with [`Event::Sni`]; `None` without
    /// an `SNICallback`.
    pub answer: Option<oneshot::Receiver<SniAnswer>>,
    /// `ALPNCallback`'s answer, asked for with [`Event::Alpn`]; `None`
    /// without one.
    pub alpn: Option<oneshot::Receiver<AlpnAnswer>>,
    /// What `setKeyCert()` chose before the ClientHello was answered (in
    /// `ALPNCallback`, or before the handshake when `SNICallback` was not
    /// asked; `SNICallback`'s answer already includes its own choice).
    pub key_cert: Arc<crate::keycert::KeyCertSlot>,
    /// Session cache listeners, as [`conn::establish`] takes them.
    pub events: u8,
}

/// Reads the ClientHello, asks for a context when it names a server, then
/// runs the handshake and the connection as [`conn::establish`] does.
pub async fn establish(
    io: Transport,
    sni: SniWrap,
    timeout: Option<Duration>,
    shared: Arc<Shared>,
    sink: Sink,
) {
    let asks = (sni.answer, sni.alpn, sni.key_cert);
    let chosen = choose(&io, sni.context, &sni.params, asks, &sink);
    // Boxed, as conn::establish boxes its handshake: freed once chosen.
    let chosen = Box::pin(async {
        tokio::select! {
            r = within(timeout, chosen) => Some(r),
            () = conn::destroyed(&shared) => None,
        }
    })
    .await;
    let Some(chosen) = chosen else {
        sink(Event::Close);
        return;
    };
    match chosen {
        Ok((tls, context, ip_name)) => {
            let mut session =
                Session::server(tls, io, context.trust.clone(), sni.request_cert, None);
            session.set_ip_name(ip_name);
            conn::establish(Box::new(session), sni.events, timeout, shared, sink).await;
        }
        Err(e) => {
            sink(Event::Error(e));
            sink(Event::Close);
        }
    }
}

async fn within<T>(
    timeout: Option<Duration>,
    work: impl std::future::Future<Output = Result<T, NodeError>>,
) -> Result<T, NodeError> {
    match timeout {
        Some(t) if !t.is_zero() => tokio::time::timeout(t, work)
            .await
            .unwrap_or_else(|_| Err(NodeError::handshake_timeout())),
        _ => work.await,
    }
}

/// Waiting for JavaScript's callback holds nothing, as in Node.
fn waiting(io: &Transport, sink: &Sink) {
    if let Transport::Js(pipe) = io {
        if let Some(consumed) = pipe.idle_consumed(false) {
            sink(Event::Idle(consumed, 0));
        }
    }
}

async fn choose(
    io: &Transport,
    own: Arc<Context>,
    params: &Params,
    (answer, alpn, key_cert): (
        Option<oneshot::Receiver<SniAnswer>>,
        Option<oneshot::Receiver<AlpnAnswer>>,
        Arc<crate::keycert::KeyCertSlot>,
    ),
    sink: &Sink,
) -> Result<(rustls::ServerConnection, Arc<Context>, Option<String>), NodeError> {
    let mut hello = Vec::new();
    let accepted = read_client_hello(io, &[], &mut hello).await?;
    // An IP address sent as the name is asked about too, as in Node.
    let ip_name = match accepted.client_hello().server_name() {
        Some(_) => None,
        None => crate::sniff::ip_server_name(&hello),
    };
    let name = accepted
        .client_hello()
        .server_name()
        .map(str::to_owned)
        .or_else(|| ip_name.clone());
    let context = match (name.clone(), answer) {
        (Some(name), Some(answer)) => {
            sink(Event::Sni(name));
            waiting(io, sink);
            let answer = answer.await.unwrap_or(SniAnswer::Fail);
            key_cert.clear();
            match answer {
                SniAnswer::Context(context) => crate::server::sni_context(context, &own, io)?,
                SniAnswer::Default => own,
                // JavaScript destroys the socket with the callback's error.
                SniAnswer::Fail => {
                    return Err(NodeError::new("ERR_TLS_SNI_CALLBACK", "SNICallback failed"))
                }
            }
        }
        _ => own,
    };
    let mut config = crate::keycert::server_config(&context.server_config(params)?, key_cert);
    if let (Some(alpn), Some(wire)) = (alpn, crate::server::offered_alpn(&accepted)) {
        sink(Event::Alpn(name, wire));
        waiting(io, sink);
        let chosen = crate::server::alpn_choice(alpn.await.unwrap_or(AlpnAnswer::Fail), io)?;
        config = crate::server::alpn_config(&config, chosen, None);
    }
    let tls = accepted
        .into_connection(config)
        .map_err(|(e, alert)| crate::refusal::refuse_hello(&e, alert, &hello, io))?;
    Ok((tls, context, ip_name))
}
