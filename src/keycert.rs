//! `tlsSocket.setKeyCert()` on a server socket over a wrapped stream: the
//! key and certificate chosen before the client's ClientHello is answered
//! serve the handshake (Node's `SSL_use_certificate` on the connection).
//! The connection's configuration resolves its certificate through a
//! [`KeyCertSlot`] that JavaScript may fill until then.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::context::{Context, Params};
use crate::error::NodeError;

/// The key and certificate `setKeyCert()` chose, if any.
#[derive(Debug)]
pub struct KeyCertSlot {
    /// The connection's parameters, to make the chosen context's resolver.
    params: Params,
    chosen: RwLock<Option<Arc<dyn ResolvesServerCert>>>,
}

impl KeyCertSlot {
    /// An empty slot for a connection with `params`.
    pub fn new(params: Params) -> Self {
        Self {
            params,
            chosen: RwLock::new(None),
        }
    }

    /// Serves the handshake with `context`'s key and certificate, if the
    /// ClientHello has not been answered yet.
    pub fn set(&self, context: &Context) -> Result<(), NodeError> {
        let resolver = context.server_config(&self.params)?.cert_resolver.clone();
        if let Ok(mut chosen) = self.chosen.write() {
            *chosen = Some(resolver);
        }
        Ok(())
    }

    /// Forgets the choice (`SNICallback`'s answer already took it in).
    pub fn clear(&self) {
        if let Ok(mut chosen) = self.chosen.write() {
            *chosen = None;
        }
    }

    fn chosen(&self) -> Option<Arc<dyn ResolvesServerCert>> {
        self.chosen.read().ok().and_then(|c| c.clone())
    }
}

/// Resolves through the slot when it is filled, else as the configuration
/// did.
#[derive(Debug)]
struct Slotted {
    slot: Arc<KeyCertSlot>,
    inner: Arc<dyn ResolvesServerCert>,
}

impl ResolvesServerCert for Slotted {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match self.slot.chosen() {
            Some(chosen) => chosen.resolve(hello),
            None => self.inner.resolve(hello),
        }
    }
}

/// `config`, with its certificate resolved through `slot`.
pub fn server_config(config: &Arc<ServerConfig>, slot: Arc<KeyCertSlot>) -> Arc<ServerConfig> {
    let mut config = (**config).clone();
    config.cert_resolver = Arc::new(Slotted {
        slot,
        inner: config.cert_resolver.clone(),
    });
    Arc::new(config)
}
