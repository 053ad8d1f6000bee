//! `ggzy-server`: serve the sync API, or enroll and revoke devices and
//! intake tokens. Migrations are applied on every start.

use clap::{Parser, Subcommand};
use ggzy_server::config::{Config, Given};
use ggzy_server::{tokens, MIGRATOR};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ggzy-server", about = "GGZY Push 同步服务器")]
struct Cli {
    /// PostgreSQL, e.g. postgres://ggzy@localhost/ggzy
    #[arg(long, env = "GGZY_SERVER_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Where to listen (default 127.0.0.1:8790).
    #[arg(long, env = "GGZY_SERVER_LISTEN", global = true)]
    listen: Option<String>,
    /// Largest request body taken, in bytes (default 16 MiB).
    #[arg(long, env = "GGZY_SERVER_MAX_BODY_BYTES", global = true)]
    max_body_bytes: Option<usize>,
    /// HTTPS: the certificate chain (PEM); with --tls-key.
    #[arg(long, env = "GGZY_SERVER_TLS_CERT", global = true)]
    tls_cert: Option<PathBuf>,
    /// HTTPS: the certificate's private key (PEM).
    #[arg(long, env = "GGZY_SERVER_TLS_KEY", global = true)]
    tls_key: Option<PathBuf>,
    /// The center's name, as the pushes of the events the server decides open with it.
    #[arg(long, env = "GGZY_SERVER_CENTER_NAME", global = true)]
    center_name: Option<String>,
    /// The channels the server sends through: a JSON file as `ggzy dispatch configure` takes
    /// (secrets from GGZY_SECRET_… in the environment).
    #[arg(long, env = "GGZY_SERVER_DISPATCH_CONFIG", global = true)]
    dispatch_config: Option<PathBuf>,
    /// A TOML file with any of database_url, listen, max_body_bytes, tls_cert, tls_key,
    /// center_name, dispatch_config.
    #[arg(long, env = "GGZY_SERVER_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API (the default).
    Serve,
    /// Desktops allowed to sync.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Tokens of the e-trading system's intake.
    IntakeToken {
        #[command(subcommand)]
        command: IntakeCommand,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Enroll a desktop; prints its token once.
    Add {
        #[arg(long)]
        name: String,
    },
    /// Refuse the desktop's token from now on (what it uploaded stays).
    Revoke {
        #[arg(long)]
        name: String,
    },
    /// The enrolled desktops: name, bound device id, enrolled, revoked.
    List,
}

#[derive(Subcommand)]
enum IntakeCommand {
    /// Issue a token for the e-trading system; prints it once.
    Add {
        #[arg(long)]
        name: String,
    },
    /// Refuse the token from now on (what it sent stays).
    Revoke {
        #[arg(long)]
        name: String,
    },
    /// The intake tokens issued: name, issued, revoked.
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GGZY_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::resolve(Given {
        database_url: cli.database_url,
        listen: cli.listen,
        max_body_bytes: cli.max_body_bytes,
        tls_cert: cli.tls_cert,
        tls_key: cli.tls_key,
        center_name: cli.center_name,
        dispatch_config: cli.dispatch_config,
        config: cli.config,
    })?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("无法连接数据库：{e}"))?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("数据库迁移失败：{e}"))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(pool, &config).await,
        Command::Device {
            command: DeviceCommand::Add { name },
        } => {
            let token = tokens::add_device(&pool, &name).await?;
            println!("{token}");
            eprintln!("已登记设备“{name}”。令牌只显示这一次：请在该设备的 设置 → 同步 中填写");
            Ok(())
        }
        Command::Device {
            command: DeviceCommand::Revoke { name },
        } => {
            tokens::revoke_device(&pool, &name).await?;
            eprintln!("已吊销设备“{name}”的令牌");
            Ok(())
        }
        Command::IntakeToken {
            command: IntakeCommand::Add { name },
        } => {
            let token = tokens::add_intake(&pool, &name).await?;
            println!("{token}");
            eprintln!("已发放接入令牌“{name}”。令牌只显示这一次");
            Ok(())
        }
        Command::IntakeToken {
            command: IntakeCommand::Revoke { name },
        } => {
            tokens::revoke_intake(&pool, &name).await?;
            eprintln!("已吊销接入令牌“{name}”");
            Ok(())
        }
        Command::Device {
            command: DeviceCommand::List,
        } => {
            print_holders(&tokens::devices(&pool).await?);
            Ok(())
        }
        Command::IntakeToken {
            command: IntakeCommand::List,
        } => {
            print_holders(&tokens::intake_tokens(&pool).await?);
            Ok(())
        }
    }
}

/// One line each: name, device id (or -), issued, revoked (or 有效).
fn print_holders(holders: &[tokens::Holder]) {
    for h in holders {
        println!(
            "{}\t{}\t{}\t{}",
            h.name,
            h.device_id
                .map_or_else(|| "-".to_owned(), |d| d.to_string()),
            h.created_at,
            h.revoked_at
                .as_deref()
                .map_or_else(|| "有效".to_owned(), |r| format!("已吊销 {r}"))
        );
    }
}

async fn serve(pool: sqlx::PgPool, config: &Config) -> anyhow::Result<()> {
    ggzy_server::serve(pool, config, stopped()).await?;
    tracing::info!("stopped: the requests under way were finished");
    Ok(())
}

/// SIGTERM (systemd's stop) or Ctrl-C: stop taking requests, finish those under way.
async fn stopped() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
