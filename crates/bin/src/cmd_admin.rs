//! `taizhang admin …` (accounts and tokens) and `taizhang audit …` (verify the trail).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use taizhang_app::org::NewAccount;
use taizhang_app::{App, Caller};
use taizhang_domain::policy::Role;

#[derive(Subcommand, Debug)]
pub enum AdminCmd {
    /// Create an account. Prints its one-time password unless --password is given.
    CreateUser {
        #[arg(long)]
        username: String,
        /// Display name (姓名).
        #[arg(long)]
        name: String,
        /// Unit name (exact) or id.
        #[arg(long)]
        unit: String,
        /// Roles, comma separated: dept_leader, supervisor, unit_head, handler, liaison, inspector,
        /// sys_admin, sec_admin, audit_admin.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Position (职务).
        #[arg(long, default_value = "")]
        position: String,
        /// Clearance: normal, sensitive or core.
        #[arg(long, default_value = "normal")]
        clearance: String,
        /// Initial password (must satisfy the policy); default: a random one-time password.
        #[arg(long)]
        password: Option<String>,
    },
    /// Reset a password to a one-time password that must be changed at next login.
    ResetPassword { username: String },
    /// Create a bearer token for API clients (printed once; stored hashed).
    CreateToken {
        #[arg(long)]
        user: String,
        #[arg(long)]
        expires_days: Option<i64>,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Verify the audit trail: exit 0 when intact, non-zero naming the first bad record.
    Verify,
    /// Sign a checkpoint of the current head of the chain.
    Checkpoint,
}

pub async fn run_admin(app: &App, cmd: AdminCmd) -> anyhow::Result<ExitCode> {
    let who = Caller::system("cli");
    match cmd {
        AdminCmd::CreateUser {
            username,
            name,
            unit,
            roles,
            position,
            clearance,
            password,
        } => {
            let unit_id = find_unit(app, &unit).await?;
            let mut parsed = Vec::new();
            for r in &roles {
                parsed.push(Role::parse(r.trim()).with_context(|| format!("unknown role `{r}`"))?);
            }
            let given = password.is_some();
            let (id, pw) = taizhang_app::org::create_account(
                app,
                &who,
                NewAccount {
                    username: username.clone(),
                    display_name: name,
                    unit_id,
                    position,
                    roles: parsed,
                    clearance,
                    password,
                    must_change_password: true,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created user {username} (id {id})");
            if !given {
                println!("one-time password: {pw}  (must be changed at first login)");
            }
        }
        AdminCmd::ResetPassword { username } => {
            let pw = taizhang_app::identity::reset_password(app, &who, &username)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "password of {username} reset; one-time password: {pw}  (must be changed at next login)"
            );
        }
        AdminCmd::CreateToken {
            user,
            expires_days,
            name,
        } => {
            let token = taizhang_app::identity::create_token(app, &who, &user, &name, expires_days)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find_unit(app: &App, unit: &str) -> anyhow::Result<i64> {
    let mut c = app.store.read().await?;
    let units = taizhang_store::org::list_units(&mut c).await?;
    if let Ok(id) = unit.parse::<i64>()
        && units.iter().any(|u| u.id == id)
    {
        return Ok(id);
    }
    match units
        .iter()
        .find(|u| u.name == unit.trim() && u.retired_at.is_none())
    {
        Some(u) => Ok(u.id),
        None => bail!("no unit named `{unit}`"),
    }
}

pub async fn run_audit(app: &App, cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCmd::Verify => match taizhang_app::audit::verify(app)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            Ok(v) => {
                println!(
                    "audit trail intact: {} records, head {}, {} signed checkpoints",
                    v.rows, v.head_seq, v.checkpoints
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(b) => {
                eprintln!("audit trail BROKEN at record {}: {b}", b.seq());
                Ok(ExitCode::from(3))
            }
        },
        AuditCmd::Checkpoint => {
            match taizhang_app::audit::checkpoint(app)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Some(seq) => println!("checkpoint signed at record {seq}"),
                None => println!("no new records since the last checkpoint"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
