//! A local stand-in for what llama.cpp's `llama-server` says about itself,
//! from its documented routes: `GET /v1/models` (the one model it serves)
//! and `GET /props` (`total_slots`, `build_info`, the default generation
//! settings). Enough to test that a plan follows the server's own slots; the
//! completions are exercised against the real llama-cpp-python server.

use std::net::{SocketAddr, TcpListener};

use crate::http::{read, respond};

/// A running server on a loopback port.
#[derive(Debug)]
pub struct FakeLlamaServer {
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeLlamaServer {
    /// Serves `model` with `slots` slots, reporting build `build`.
    pub fn start(model: &str, slots: u64, build: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let models =
            serde_json::json!({"object": "list", "data": [{"id": model, "object": "model", "owned_by": "llamacpp"}]});
        let props = serde_json::json!({
            "total_slots": slots,
            "build_info": build,
            "model_path": format!("/models/{model}.gguf"),
            "default_generation_settings": {"n_ctx": 4096},
        });
        std::thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let Ok(req) = read(&sock) else { continue };
                let (status, body) = match (req.method.as_str(), req.path.as_str()) {
                    ("GET", "/v1/models") => (200, models.to_string()),
                    ("GET", "/props") => (200, props.to_string()),
                    _ => (404, r#"{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}"#.into()),
                };
                let _ = respond(&sock, status, "", "application/json", body.as_bytes());
            }
        });
        FakeLlamaServer { addr }
    }

    /// The server root.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
