pub mod ollama_server;
