//! Runs the sandbox on its own until Ctrl-C: `cargo run -p sandbox --example standalone -- [--records N] [--port P]`.
//! (`zqsync sandbox` is the real entry point; this is for working on the crate alone.)

use std::io::Write;

use sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SandboxConfig::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--records", Some(n)) => config.records_per_module = n.parse()?,
            ("--port", Some(p)) => config.base_port = p.parse()?,
            ("--seed", Some(s)) => config.seed = s.parse()?,
            (other, _) => return Err(format!("unknown argument {other}").into()),
        }
    }
    let sandbox = Sandbox::start(config).await?;
    writeln!(std::io::stdout(), "{}", sandbox.urls())?;
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
