//! SAML identity providers: the IdPs whose signed assertions
//! `sts:AssumeRoleWithSAML` accepts ([`super::saml`]). Each metadata
//! document is parsed when it is given (its entity id and signing
//! certificates: `iam_federation::saml::SamlMetadata`), so a provider whose
//! assertions could never verify is refused up front. Each operation is
//! authorized on the provider's ARN, `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
//!
//! Encrypted assertions (`AssertionEncryptionMode=Required`, the private
//! keys that decrypt them) and IAM Identity Center settings are not
//! supported: asking for them is `InvalidInput`, never silently ignored.

use iam_domain::names::SamlProviderName;
use iam_domain::state::SamlProvider;
use iam_domain::Command;
use iam_federation::saml::SamlMetadata;
use iam_wire::iam;

use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::credentials::random_bytes;
use crate::query::ApiError;

pub(super) fn provider_arn(account: &str, name: &SamlProviderName) -> String {
    format!("arn:aws:iam::{account}:saml-provider/{name}")
}

/// The metadata document, parsed: `InvalidInput` with the parser's reason
/// when it is not usable.
fn parsed(document: &str) -> Result<SamlMetadata, ApiError> {
    SamlMetadata::parse(document).map_err(|e| {
        ApiError::new(
            400,
            "InvalidInput",
            format!("Could not parse metadata: {e}."),
        )
    })
}

/// `InvalidInput` for the settings iamd does not support.
fn unsupported(
    mode: Option<&iam::AssertionEncryptionModeType>,
    private_key: bool,
    identity_center: bool,
) -> Result<(), ApiError> {
    let refuse = |what: &str| {
        Err(ApiError::new(
            400,
            "InvalidInput",
            format!("{what} is not supported by iamd: it accepts signed, unencrypted assertions."),
        ))
    };
    if matches!(mode, Some(iam::AssertionEncryptionModeType::Required)) {
        return refuse("AssertionEncryptionMode Required");
    }
    if private_key {
        return refuse("A private key for encrypted assertions");
    }
    if identity_center {
        return refuse("IAM Identity Center configuration");
    }
    Ok(())
}

/// The provider a request's ARN names, with its target (authorized on the
/// ARN as given when it names none).
fn named<'s>(ctx: &'s OpContext<'_>, arn: &str) -> (Target, Option<&'s SamlProvider>) {
    let prefix = format!("arn:aws:iam::{}:saml-provider/", ctx.account());
    let name = arn
        .strip_prefix(&prefix)
        .and_then(|n| SamlProviderName::parse(n).ok());
    let stored = name
        .as_ref()
        .and_then(|n| ctx.authorizing_state().saml_providers.get(&n.key()));
    let target = match stored {
        Some(p) => Target::arn(provider_arn(ctx.account(), &p.name)).with_tags(p.tags.values()),
        None => Target::arn(arn.to_owned()),
    };
    let found = name
        .and_then(|n| ctx.state().saml_providers.get(&n.key()))
        .map(|p| &**p);
    (target, found)
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!(
            "Manifest not found for arn {}",
            iam_domain::names::shown(arn)
        ),
    )
}

/// The provider, authorized on it.
fn authorized<'s>(ctx: &'s OpContext<'_>, arn: &str) -> Result<&'s SamlProvider, ApiError> {
    let (target, found) = named(ctx, arn);
    ctx.authorize(&target)?;
    found.ok_or_else(|| not_found(arn))
}

/// AWS's `SAMLProviderUUID` form: a random version 4 UUID.
fn new_uuid() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateSAMLProviderRequest,
) -> OpResult<iam::CreateSAMLProviderResponse> {
    let name = SamlProviderName::parse(&input.name)?;
    let tags = crate::authz::request_tags(ctx.params)?;
    let arn = provider_arn(ctx.account(), &name);
    super::users::authorize_create::<iam::ops::TagSAMLProvider>(
        ctx,
        &Target::arn(arn.clone()),
        &tags,
    )?;
    unsupported(
        input.assertion_encryption_mode.as_ref(),
        input.add_private_key.is_some(),
        input.context_provider.is_some() || input.identity_center_instance_arn.is_some(),
    )?;
    let metadata = parsed(&input.saml_metadata_document)?;
    ctx.execute(Command::CreateSamlProvider {
        name: name.clone(),
        uuid: new_uuid(),
        metadata_document: input.saml_metadata_document,
        valid_until: metadata.valid_until(),
        tags,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let stored = view
        .state
        .saml_providers
        .get(&name.key())
        .ok_or_else(ApiError::internal)?;
    Ok(iam::CreateSAMLProviderResponse {
        saml_provider_arn: Some(arn),
        tags: shapes::tags(&stored.tags),
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetSAMLProviderRequest,
) -> OpResult<iam::GetSAMLProviderResponse> {
    let p = authorized(ctx, &input.saml_provider_arn)?;
    Ok(iam::GetSAMLProviderResponse {
        saml_provider_uuid: Some(p.uuid.clone()),
        saml_metadata_document: Some(p.metadata_document.clone()),
        create_date: Some(p.created_at),
        valid_until: p.valid_until,
        tags: shapes::tags(&p.tags),
        assertion_encryption_mode: Some(iam::AssertionEncryptionModeType::Allowed),
        ..Default::default()
    })
}

/// Not paged in AWS's model: at most 100 providers exist.
pub async fn list(
    ctx: &OpContext<'_>,
    _: iam::ListSAMLProvidersRequest,
) -> OpResult<iam::ListSAMLProvidersResponse> {
    ctx.authorize_arn("*".into())?;
    Ok(iam::ListSAMLProvidersResponse {
        saml_provider_list: Some(
            ctx.state()
                .saml_providers
                .values()
                .map(|p| iam::SAMLProviderListEntry {
                    arn: Some(provider_arn(ctx.account(), &p.name)),
                    valid_until: p.valid_until,
                    create_date: Some(p.created_at),
                    ..Default::default()
                })
                .collect(),
        ),
    })
}

pub async fn update(
    ctx: &OpContext<'_>,
    input: iam::UpdateSAMLProviderRequest,
) -> OpResult<iam::UpdateSAMLProviderResponse> {
    let name = authorized(ctx, &input.saml_provider_arn)?.name.clone();
    unsupported(
        input.assertion_encryption_mode.as_ref(),
        input.add_private_key.is_some() || input.remove_private_key.is_some(),
        input.context_provider.is_some()
            || input.identity_center_instance_arn.is_some()
            || input.remove_context_provider.is_some()
            || input.remove_identity_center_instance.is_some(),
    )?;
    if let Some(document) = input.saml_metadata_document {
        let metadata = parsed(&document)?;
        ctx.execute(Command::UpdateSamlProvider {
            name: name.clone(),
            metadata_document: document,
            valid_until: metadata.valid_until(),
        })
        .await?;
    }
    Ok(iam::UpdateSAMLProviderResponse {
        saml_provider_arn: Some(provider_arn(ctx.account(), &name)),
    })
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteSAMLProviderRequest) -> OpResult<()> {
    let name = authorized(ctx, &input.saml_provider_arn)?.name.clone();
    ctx.execute(Command::DeleteSamlProvider { name }).await?;
    Ok(())
}

pub async fn tag(ctx: &OpContext<'_>, input: iam::TagSAMLProviderRequest) -> OpResult<()> {
    let tags = crate::authz::request_tags(ctx.params)?;
    let name = authorized(ctx, &input.saml_provider_arn)?.name.clone();
    ctx.execute(Command::TagSamlProvider { name, tags }).await?;
    Ok(())
}

pub async fn untag(ctx: &OpContext<'_>, input: iam::UntagSAMLProviderRequest) -> OpResult<()> {
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    let name = authorized(ctx, &input.saml_provider_arn)?.name.clone();
    ctx.execute(Command::UntagSamlProvider { name, tag_keys })
        .await?;
    Ok(())
}

pub async fn list_tags(
    ctx: &OpContext<'_>,
    input: iam::ListSAMLProviderTagsRequest,
) -> OpResult<iam::ListSAMLProviderTagsResponse> {
    let p = authorized(ctx, &input.saml_provider_arn)?;
    let page = Page::of(
        p.tags.iter().map(|(k, t)| (k.as_str(), t)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListSAMLProviderTagsResponse {
        is_truncated: page.is_truncated(),
        tags: shapes::tag_list(page.items.into_iter()),
        marker: page.next,
    })
}
