//! X.509 certificates: users' (and the root user's) signing certificates,
//! and the account's server certificates with their chains and private
//! keys. Each is parsed and checked (`crate::x509`) before the log sees it;
//! a server certificate's private key is sealed and no operation returns
//! it.

use iam_domain::ids::ServerCertificateId;
use iam_domain::names::ServerCertificateName;
use iam_domain::secrets::seal;
use iam_domain::state::owner_eq;
use iam_domain::state::{AccountState, ServerCertificate, SigningCertificate};
use iam_domain::Command;
use iam_wire::iam;

use super::access_keys::{owner, owner_name};
use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::{random_bytes, unique_id};
use crate::query::ApiError;
use crate::x509::{check_chain, ParsedCertificate};

fn signing(c: &SigningCertificate) -> iam::SigningCertificate {
    iam::SigningCertificate {
        // The root user's certificates have no user name; AWS leaves the
        // element empty, as for its access keys.
        user_name: owner_name(&c.owner).unwrap_or_default(),
        certificate_id: c.id.clone(),
        certificate_body: c.body.clone(),
        status: super::shapes::status(c.status),
        upload_date: Some(c.uploaded_at),
    }
}

/// Authorized on the owning user (the root user for the root's own).
pub async fn upload_signing(
    ctx: &OpContext<'_>,
    input: iam::UploadSigningCertificateRequest,
) -> OpResult<iam::UploadSigningCertificateResponse> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    let cert = ParsedCertificate::parse(&input.certificate_body)?;
    cert.check_valid_at(ctx.now)?;
    let id = cert.id();
    ctx.execute(Command::UploadSigningCertificate {
        owner: owner.clone(),
        certificate_id: id.clone(),
        body: cert.pem,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let c = view
        .state
        .signing_certificates
        .get(&id)
        .ok_or_else(ApiError::internal)?;
    Ok(iam::UploadSigningCertificateResponse {
        certificate: signing(c),
    })
}

pub async fn list_signing(
    ctx: &OpContext<'_>,
    input: iam::ListSigningCertificatesRequest,
) -> OpResult<iam::ListSigningCertificatesResponse> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    let state = ctx.state();
    if let iam_domain::state::CredentialOwner::User { user_name } = &owner {
        if !state.users.contains_key(&user_name.key()) {
            return Err(super::entity::no_such("user", user_name.as_str()));
        }
    }
    let page = Page::of(
        state
            .signing_certificates
            .iter()
            .filter(|(_, c)| owner_eq(&c.owner, &owner))
            .map(|(id, c)| (id.as_str(), &**c)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListSigningCertificatesResponse {
        certificates: page.items.iter().map(|c| signing(c)).collect(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

pub async fn update_signing(
    ctx: &OpContext<'_>,
    input: iam::UpdateSigningCertificateRequest,
) -> OpResult<()> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    ctx.execute(Command::UpdateSigningCertificate {
        owner,
        certificate_id: input.certificate_id,
        status: super::shapes::requested_status(&input.status)?,
    })
    .await?;
    Ok(())
}

pub async fn delete_signing(
    ctx: &OpContext<'_>,
    input: iam::DeleteSigningCertificateRequest,
) -> OpResult<()> {
    let (owner, target) = owner(ctx, input.user_name.as_deref())?;
    ctx.authorize(&target)?;
    ctx.execute(Command::DeleteSigningCertificate {
        owner,
        certificate_id: input.certificate_id,
    })
    .await?;
    Ok(())
}

fn arn_of(state: &AccountState, c: &ServerCertificate) -> String {
    state
        .account_id()
        .map(|a| {
            format!(
                "arn:aws:iam::{a}:server-certificate{}{}",
                c.path.as_str(),
                c.name.as_str()
            )
        })
        .unwrap_or_default()
}

fn server_metadata(state: &AccountState, c: &ServerCertificate) -> iam::ServerCertificateMetadata {
    iam::ServerCertificateMetadata {
        path: c.path.as_str().to_owned(),
        server_certificate_name: c.name.as_str().to_owned(),
        server_certificate_id: c.id.as_str().to_owned(),
        arn: arn_of(state, c),
        upload_date: Some(c.uploaded_at),
        expiration: Some(c.expiration),
    }
}

fn stored<'s>(
    state: &'s AccountState,
    name: &ServerCertificateName,
) -> Result<&'s ServerCertificate, ApiError> {
    state
        .server_certificates
        .get(&name.key())
        .map(|c| &**c)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NoSuchEntity",
                format!("The Server Certificate with name {name} cannot be found."),
            )
        })
}

/// The certificate `name` as an authorization target: its ARN and tags
/// when it exists, else the ARN it would have at the root path.
fn target(ctx: &OpContext<'_>, name: &ServerCertificateName) -> Target {
    let state = ctx.authorizing_state();
    match state.server_certificates.get(&name.key()) {
        Some(c) => Target::arn(arn_of(state, c)).with_tags(c.tags.values()),
        None => Target::arn(ctx.arn(&format!("server-certificate/{name}"))),
    }
}

pub async fn upload_server(
    ctx: &OpContext<'_>,
    input: iam::UploadServerCertificateRequest,
) -> OpResult<iam::UploadServerCertificateResponse> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    let path = shapes::path(input.path.as_deref())?;
    let tags = crate::authz::request_tags(ctx.params)?;
    let target = Target::arn(ctx.arn(&format!(
        "server-certificate{}{}",
        path.as_ref().map(|p| p.as_str()).unwrap_or("/"),
        name.as_str()
    )));
    super::users::authorize_create::<iam::ops::TagServerCertificate>(ctx, &target, &tags)?;
    let cert = ParsedCertificate::parse(&input.certificate_body)?;
    // UploadServerCertificate has no InvalidCertificate in AWS's model: a
    // certificate outside its validity period is malformed for it.
    cert.check_valid_at(ctx.now)
        .map_err(|e| ApiError::new(400, "MalformedCertificate", e.to_string()))?;
    cert.check_private_key(&input.private_key.0)?;
    let chain = input
        .certificate_chain
        .as_deref()
        .map(check_chain)
        .transpose()?;
    let id = unique_id("ASCA");
    // The key is sealed to the certificate's id before it reaches the log.
    let private_key = seal(
        &ctx.state.master_key,
        random_bytes(),
        id.as_bytes(),
        input.private_key.0.trim().as_bytes(),
    );
    ctx.execute(Command::UploadServerCertificate {
        server_certificate_name: name.clone(),
        path,
        server_certificate_id: ServerCertificateId::parse(&id)?,
        body: cert.pem,
        chain,
        private_key,
        expiration: cert.not_after,
        tags,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let c = stored(&view.state, &name)?;
    Ok(iam::UploadServerCertificateResponse {
        server_certificate_metadata: Some(server_metadata(&view.state, c)),
        tags: shapes::tags(&c.tags),
    })
}

pub async fn get_server(
    ctx: &OpContext<'_>,
    input: iam::GetServerCertificateRequest,
) -> OpResult<iam::GetServerCertificateResponse> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    ctx.authorize(&target(ctx, &name))?;
    let state = ctx.state();
    let c = stored(state, &name)?;
    Ok(iam::GetServerCertificateResponse {
        server_certificate: iam::ServerCertificate {
            server_certificate_metadata: server_metadata(state, c),
            certificate_body: c.body.clone(),
            certificate_chain: c.chain.clone(),
            tags: shapes::tags(&c.tags),
        },
    })
}

pub async fn list_server(
    ctx: &OpContext<'_>,
    input: iam::ListServerCertificatesRequest,
) -> OpResult<iam::ListServerCertificatesResponse> {
    let prefix = shapes::path_prefix(input.path_prefix.as_deref());
    ctx.authorize_arn(ctx.arn(&format!("server-certificate{prefix}")))?;
    let state = ctx.state();
    let page = Page::of(
        state
            .server_certificates
            .iter()
            .filter(|(_, c)| c.path.as_str().starts_with(prefix))
            .map(|(k, c)| (k.as_str(), &**c)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListServerCertificatesResponse {
        server_certificate_metadata_list: page
            .items
            .iter()
            .map(|c| server_metadata(state, c))
            .collect(),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

/// As AWS documents, a rename or move needs the permission on the
/// certificate as it is and as it will be.
pub async fn update_server(
    ctx: &OpContext<'_>,
    input: iam::UpdateServerCertificateRequest,
) -> OpResult<()> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    let new_name = input
        .new_server_certificate_name
        .as_deref()
        .map(ServerCertificateName::parse)
        .transpose()?;
    let new_path = shapes::path(input.new_path.as_deref())?;
    let current = target(ctx, &name);
    ctx.authorize(&current)?;
    let stored = ctx.state().server_certificates.get(&name.key());
    super::entity::authorize_new_arn(
        ctx,
        "server-certificate",
        &current,
        stored.map(|c| (&c.path, c.name.as_str())),
        (
            name.as_str(),
            new_name.as_ref().map(|n| n.as_str()),
            new_path.as_ref(),
        ),
    )?;
    ctx.execute(Command::UpdateServerCertificate {
        server_certificate_name: name,
        new_server_certificate_name: new_name,
        new_path,
    })
    .await?;
    Ok(())
}

pub async fn delete_server(
    ctx: &OpContext<'_>,
    input: iam::DeleteServerCertificateRequest,
) -> OpResult<()> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::DeleteServerCertificate {
        server_certificate_name: name,
    })
    .await?;
    Ok(())
}

pub async fn tag_server(
    ctx: &OpContext<'_>,
    input: iam::TagServerCertificateRequest,
) -> OpResult<()> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    let tags = crate::authz::request_tags(ctx.params)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::TagServerCertificate {
        server_certificate_name: name,
        tags,
    })
    .await?;
    Ok(())
}

pub async fn untag_server(
    ctx: &OpContext<'_>,
    input: iam::UntagServerCertificateRequest,
) -> OpResult<()> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    ctx.authorize(&target(ctx, &name))?;
    ctx.execute(Command::UntagServerCertificate {
        server_certificate_name: name,
        tag_keys,
    })
    .await?;
    Ok(())
}

pub async fn list_server_tags(
    ctx: &OpContext<'_>,
    input: iam::ListServerCertificateTagsRequest,
) -> OpResult<iam::ListServerCertificateTagsResponse> {
    let name = ServerCertificateName::parse(&input.server_certificate_name)?;
    ctx.authorize(&target(ctx, &name))?;
    let c = stored(ctx.state(), &name)?;
    let page = Page::of(
        c.tags.iter().map(|(k, t)| (k.as_str(), t)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListServerCertificateTagsResponse {
        is_truncated: page.is_truncated(),
        tags: shapes::tag_list(page.items.into_iter()),
        marker: page.next,
    })
}
