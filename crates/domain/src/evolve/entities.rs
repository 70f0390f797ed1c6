//! Building blocks for events of several families: the rule for renaming a
//! user or a group, credential owners as stored, and the policy an ARN names.

use crate::arn::Arn;
use crate::names::{Keyed, NameKey};
use crate::state::{AccountState, CredentialOwner};

/// The name a user or group takes from an event that asks for `new_name`
/// while it is stored under `old`: none if the event asks for no rename, or
/// if another entity of the kind holds the new name's key (`taken`; the
/// event does not fit the state, so the rename is dropped). A change of case
/// alone is a rename.
pub(super) fn accepted_rename<'n, N: Keyed>(
    old: &NameKey,
    new_name: Option<&'n N>,
    taken: impl Fn(&NameKey) -> bool,
) -> Option<&'n N> {
    new_name.filter(|n| n.key() == *old || !taken(&n.key()))
}

/// Whether the owner of a credential exists (the root user always does).
pub(super) fn owner_exists(state: &AccountState, owner: &CredentialOwner) -> bool {
    match owner {
        CredentialOwner::Root => true,
        CredentialOwner::User { user_name } => state.users.contains_key(&user_name.key()),
    }
}

/// The owner with the user name spelled as stored (events may use any case).
pub(super) fn canonical_owner(state: &AccountState, owner: &CredentialOwner) -> CredentialOwner {
    match owner {
        CredentialOwner::Root => CredentialOwner::Root,
        CredentialOwner::User { user_name } => CredentialOwner::User {
            user_name: state
                .users
                .get(&user_name.key())
                .map(|u| u.name.clone())
                .unwrap_or_else(|| user_name.clone()),
        },
    }
}

/// The key of an existing policy in this account named by `arn`.
pub(super) fn policy_key(state: &AccountState, arn: &Arn) -> Option<NameKey> {
    if let Arn::AwsPolicy { path, name } = arn {
        return crate::aws_policies::find(path, name).map(|p| p.attachment_key());
    }
    let Arn::Policy {
        account,
        path,
        name,
    } = arn
    else {
        return None;
    };
    let key = name.key();
    let policy = state.policies.get(&key)?;
    (state.account_id() == Some(account) && &policy.path == path).then_some(key)
}
