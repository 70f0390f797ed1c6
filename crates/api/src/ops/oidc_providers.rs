//! OpenID Connect identity providers: the issuers whose ID tokens
//! `sts:AssumeRoleWithWebIdentity` accepts ([`super::web_identity`]).
//! Each is authorized on its ARN,
//! `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.

use iam_domain::names::OidcProviderUrl;
use iam_domain::state::OidcProvider;
use iam_domain::{AccountState, Command};
use iam_wire::iam;

use super::shapes::{self, Page};
use super::{OpContext, OpResult};
use crate::authz::Target;
use crate::query::ApiError;

fn provider_arn(account: &str, url: &OidcProviderUrl) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{}", url.resource())
}

/// The provider a request's ARN names (`NoSuchEntity` otherwise, after
/// authorizing on the ARN as given), with its target.
fn named<'s>(
    ctx: &'s OpContext<'_>,
    arn: &str,
) -> Result<(Target, Option<&'s OidcProvider>), ApiError> {
    let prefix = format!("arn:aws:iam::{}:oidc-provider/", ctx.account());
    let resource = arn.strip_prefix(&prefix);
    let stored = resource.and_then(|r| ctx.authorizing_state().oidc_providers.get(r));
    let target = match stored {
        Some(p) => Target::arn(provider_arn(ctx.account(), &p.url)).with_tags(p.tags.values()),
        None => Target::arn(arn.to_owned()),
    };
    let found = resource
        .and_then(|r| ctx.state().oidc_providers.get(r))
        .map(|p| &**p);
    Ok((target, found))
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("OpenIDConnect Provider not found for arn {arn}"),
    )
}

/// The provider, authorized on it: its URL for a command.
fn authorized(ctx: &OpContext<'_>, arn: &str) -> Result<OidcProviderUrl, ApiError> {
    let (target, found) = named(ctx, arn)?;
    ctx.authorize(&target)?;
    found.map(|p| p.url.clone()).ok_or_else(|| not_found(arn))
}

pub async fn create(
    ctx: &OpContext<'_>,
    input: iam::CreateOpenIDConnectProviderRequest,
) -> OpResult<iam::CreateOpenIDConnectProviderResponse> {
    let url = OidcProviderUrl::parse(&input.url)?;
    if !ctx.state.issuers.allows(&url) {
        return Err(ApiError::validation("Invalid Open ID Connect Provider URL"));
    }
    let tags = crate::authz::request_tags(ctx.params)?;
    let arn = provider_arn(ctx.account(), &url);
    super::users::authorize_create::<iam::ops::TagOpenIDConnectProvider>(
        ctx,
        &Target::arn(arn.clone()),
        &tags,
    )?;
    ctx.execute(Command::CreateOpenIdConnectProvider {
        url: url.clone(),
        client_ids: input.client_id_list.unwrap_or_default(),
        thumbprints: input.thumbprint_list.unwrap_or_default(),
        tags,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let stored = view
        .state
        .oidc_providers
        .get(url.resource())
        .ok_or_else(ApiError::internal)?;
    Ok(iam::CreateOpenIDConnectProviderResponse {
        open_id_connect_provider_arn: Some(arn),
        tags: shapes::tags(&stored.tags),
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetOpenIDConnectProviderRequest,
) -> OpResult<iam::GetOpenIDConnectProviderResponse> {
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    let p = provider(ctx.state(), &url, &input.open_id_connect_provider_arn)?;
    Ok(iam::GetOpenIDConnectProviderResponse {
        // AWS answers the URL without its scheme.
        url: Some(p.url.resource().to_owned()),
        client_id_list: Some(p.client_ids.clone()),
        thumbprint_list: Some(p.thumbprints.clone()),
        create_date: Some(p.created_at),
        tags: shapes::tags(&p.tags),
        ..Default::default()
    })
}

fn provider<'s>(
    state: &'s AccountState,
    url: &OidcProviderUrl,
    arn: &str,
) -> Result<&'s OidcProvider, ApiError> {
    state
        .oidc_providers
        .get(url.resource())
        .map(|p| &**p)
        .ok_or_else(|| not_found(arn))
}

/// Not paged in AWS's model: at most 100 providers exist.
pub async fn list(
    ctx: &OpContext<'_>,
    _: iam::ListOpenIDConnectProvidersRequest,
) -> OpResult<iam::ListOpenIDConnectProvidersResponse> {
    ctx.authorize_arn("*".into())?;
    Ok(iam::ListOpenIDConnectProvidersResponse {
        open_id_connect_provider_list: Some(
            ctx.state()
                .oidc_providers
                .values()
                .map(|p| iam::OpenIDConnectProviderListEntry {
                    arn: Some(provider_arn(ctx.account(), &p.url)),
                    ..Default::default()
                })
                .collect(),
        ),
    })
}

pub async fn delete(
    ctx: &OpContext<'_>,
    input: iam::DeleteOpenIDConnectProviderRequest,
) -> OpResult<()> {
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    ctx.execute(Command::DeleteOpenIdConnectProvider { url })
        .await?;
    Ok(())
}

pub async fn add_client_id(
    ctx: &OpContext<'_>,
    input: iam::AddClientIDToOpenIDConnectProviderRequest,
) -> OpResult<()> {
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    ctx.execute(Command::AddClientIdToOpenIdConnectProvider {
        url,
        client_id: input.client_id,
    })
    .await?;
    Ok(())
}

pub async fn remove_client_id(
    ctx: &OpContext<'_>,
    input: iam::RemoveClientIDFromOpenIDConnectProviderRequest,
) -> OpResult<()> {
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    ctx.execute(Command::RemoveClientIdFromOpenIdConnectProvider {
        url,
        client_id: input.client_id,
    })
    .await?;
    Ok(())
}

pub async fn update_thumbprint(
    ctx: &OpContext<'_>,
    input: iam::UpdateOpenIDConnectProviderThumbprintRequest,
) -> OpResult<()> {
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    ctx.execute(Command::UpdateOpenIdConnectProviderThumbprint {
        url,
        thumbprints: input.thumbprint_list,
    })
    .await?;
    Ok(())
}

pub async fn tag(ctx: &OpContext<'_>, input: iam::TagOpenIDConnectProviderRequest) -> OpResult<()> {
    let tags = crate::authz::request_tags(ctx.params)?;
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    ctx.execute(Command::TagOpenIdConnectProvider { url, tags })
        .await?;
    Ok(())
}

pub async fn untag(
    ctx: &OpContext<'_>,
    input: iam::UntagOpenIDConnectProviderRequest,
) -> OpResult<()> {
    let tag_keys = crate::authz::request_tag_keys(ctx.params)?;
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    ctx.execute(Command::UntagOpenIdConnectProvider { url, tag_keys })
        .await?;
    Ok(())
}

pub async fn list_tags(
    ctx: &OpContext<'_>,
    input: iam::ListOpenIDConnectProviderTagsRequest,
) -> OpResult<iam::ListOpenIDConnectProviderTagsResponse> {
    let url = authorized(ctx, &input.open_id_connect_provider_arn)?;
    let p = provider(ctx.state(), &url, &input.open_id_connect_provider_arn)?;
    let page = Page::of(
        p.tags.iter().map(|(k, t)| (k.as_str(), t)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListOpenIDConnectProviderTagsResponse {
        is_truncated: page.is_truncated(),
        tags: shapes::tag_list(page.items.into_iter()),
        marker: page.next,
    })
}
