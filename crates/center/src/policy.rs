//! Who may do what: the one place where the center decides authorisation.
//!
//! Every route names an [`Action`]; the router asks [`decide`] before the handler runs, and a
//! handler that loads an object of an organisation asks [`decide_object`] before it shows or
//! changes it. Nothing else grants access. The matrix test (`tests/matrix.rs`) pins the answer for
//! every route and every kind of caller.

use serde::{Deserialize, Serialize};

/// A signed-in account's role. The anonymous public has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, organisations, keys.
    Admin,
    /// Runs for any organisation; certificates.
    Assessor,
    /// Reads samples; overrides a score with a reason.
    Reviewer,
    /// A member of one organisation: its models, its runs, its reports.
    Applicant,
    /// Reads everything and the audit log; changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Assessor,
        Role::Reviewer,
        Role::Applicant,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Assessor => "assessor",
            Role::Reviewer => "reviewer",
            Role::Applicant => "applicant",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether accounts of this role belong to one organisation (and see only its objects).
    pub fn is_member(self) -> bool {
        self == Role::Applicant
    }
}

/// What an API token may be used for. A session (a person at a browser) has every scope its
/// role allows; a token has only those it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Reading runs, results, models and (for auditors) the audit log.
    Read,
    /// Submitting and cancelling runs.
    Runs,
    /// Registering and removing models.
    Models,
    /// Users and organisations.
    Admin,
    /// Issuing certificates.
    Certify,
    /// Reviewing scores by hand.
    Review,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::Read,
        Scope::Runs,
        Scope::Models,
        Scope::Admin,
        Scope::Certify,
        Scope::Review,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Runs => "runs",
            Scope::Models => "models",
            Scope::Admin => "admin",
            Scope::Certify => "certify",
            Scope::Review => "review",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How a caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login session (cookie).
    Session,
    /// An API token with its scopes.
    Token { id: String, scopes: Vec<Scope> },
}

/// A signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    /// The organisation of a member (an applicant); None for the center's own staff.
    pub organisation: Option<String>,
    /// Signed in with a password someone else set: only [`PASSWORD_CHANGE_ALLOWS`] until it is
    /// changed.
    pub must_change_password: bool,
    pub credential: Credential,
}

/// Declares [`Action`] and [`ALL_ACTIONS`] from one list, so that the two cannot differ.
macro_rules! actions {
    ($($name:ident),* $(,)?) => {
        /// Everything a route can do. One variant per route: the router maps each route to one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($name),*
        }

        /// Every action, for the matrix and for [`scopes_of`].
        pub const ALL_ACTIONS: &[Action] = &[$(Action::$name),*];
    };
}

actions!(
    Health,
    OpenApi,
    LogHead,
    Login,
    Logout,
    Me,
    PasswordChange,
    UsersList,
    UsersCreate,
    OrgsList,
    OrgsCreate,
    TokensList,
    TokensCreate,
    TokensRevoke,
    ModelsList,
    ModelsCreate,
    ModelsGet,
    ModelsDelete,
    ModelsTest,
    SuitesList,
    SuitesUpload,
    RunsList,
    RunsCreate,
    RunsGet,
    RunsResults,
    RunsSamples,
    RunsEvents,
    RunsReport,
    Compare,
    RunsCancel,
    RunsCertify,
    RunsCertificate,
    ReviewsList,
    ReviewsCreate,
    ReviewQueue,
    RunsSamplesFile,
    FlagsCreate,
    RunsPublish,
    PublishedList,
    CertificatesVerify,
    AuditList,
    // The console's pages: the same policy, the same audit trail.
    Static,
    PageHome,
    PageAbout,
    PageVerify,
    PageVerifyCheck,
    PageLang,
    PageLogin,
    PageLoginSubmit,
    PageLogout,
    PageDashboard,
    PageRun,
    PageRunCancel,
    PageRunCertify,
    PageRunPublish,
    PagePassword,
    PagePasswordSubmit,
    PageModels,
    PageModelsCreate,
    PageModelTest,
    PageModelDelete,
    PageRunNew,
    PageRunCreate,
    PageAdmin,
    PageUserCreate,
    PageOrgCreate,
    PageTokens,
    PageTokenCreate,
    PageTokenRevoke,
    PageAudit,
    PageSamples,
    PageReviewCreate,
    PageModel,
    PageLog,
    PageCompare,
    PageQueue,
    PageFlagCreate,
);

/// Who an action is for.
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in caller, for their own account (their session, their tokens).
    Own { token_allowed: bool },
    /// These roles; applicants only within their organisation. Tokens need `scope`.
    Roles(&'static [Role], Scope),
}

use Role::{Admin, Applicant, Assessor, Auditor, Reviewer};

/// Everyone who reads an organisation's runs and models.
const READERS: &[Role] = &[Admin, Assessor, Reviewer, Applicant, Auditor];

fn rule(action: Action) -> Rule {
    use Action::*;
    match action {
        Health | OpenApi | LogHead | Login | CertificatesVerify | PublishedList => Rule::Public,
        Static | PageHome | PageAbout | PageVerify | PageVerifyCheck | PageLang | PageLogin
        | PageLoginSubmit | PageModel | PageLog => Rule::Public,
        Logout | Me | PageLogout => Rule::Own {
            token_allowed: true,
        },
        // A leaked token must not take over the account.
        PasswordChange | PagePassword | PagePasswordSubmit => Rule::Own {
            token_allowed: false,
        },
        // A leaked token must not mint more tokens: token management needs a session.
        TokensList | TokensCreate | TokensRevoke | PageTokens | PageTokenCreate
        | PageTokenRevoke => Rule::Own {
            token_allowed: false,
        },
        UsersList | UsersCreate | OrgsCreate | PageAdmin | PageUserCreate | PageOrgCreate => {
            Rule::Roles(&[Admin], Scope::Admin)
        }
        OrgsList => Rule::Roles(&[Admin, Assessor, Auditor], Scope::Read),
        // Reviewers judge answers, not endpoints: models are not theirs to see.
        ModelsList | ModelsGet | PageModels => {
            Rule::Roles(&[Admin, Assessor, Applicant, Auditor], Scope::Read)
        }
        ModelsCreate | ModelsDelete | ModelsTest | PageModelsCreate | PageModelTest
        | PageModelDelete => Rule::Roles(&[Admin, Assessor, Applicant], Scope::Models),
        SuitesList | RunsList | RunsGet | RunsResults | RunsSamples | RunsEvents | RunsReport
        | Compare | RunsCertificate | ReviewsList | PageDashboard | PageRun | PageSamples
        | PageCompare | ReviewQueue | PageQueue | RunsSamplesFile => {
            Rule::Roles(READERS, Scope::Read)
        }
        // A reviewed score is the center's judgement: its reviewers' and assessors'.
        ReviewsCreate | PageReviewCreate => Rule::Roles(&[Reviewer, Assessor], Scope::Review),
        // Asking for a review is anyone's who works on the run; auditors only watch.
        FlagsCreate | PageFlagCreate => {
            Rule::Roles(&[Admin, Assessor, Reviewer, Applicant], Scope::Review)
        }
        // Signing in the center's name is the assessors' alone.
        RunsCertify | RunsPublish | PageRunCertify | PageRunPublish => {
            Rule::Roles(&[Assessor], Scope::Certify)
        }
        RunsCreate | RunsCancel | SuitesUpload | PageRunCancel | PageRunNew | PageRunCreate => {
            Rule::Roles(&[Assessor, Applicant], Scope::Runs)
        }
        AuditList | PageAudit => Rule::Roles(&[Admin, Auditor], Scope::Read),
    }
}

/// Why a request was refused; the HTTP layer turns each into its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credential: 401.
    SignIn,
    /// The role or the token's scope does not allow it: 403.
    Forbidden,
    /// The token lacks the scope: 403 with its own code.
    Scope(Scope),
    /// Another organisation's object: 404, so that its existence is not disclosed.
    Hidden,
    /// The caller's password was set by someone else and must be changed first: 403.
    PasswordChange,
}

/// What a caller whose password must change may still do.
pub const PASSWORD_CHANGE_ALLOWS: &[Action] = &[
    Action::Me,
    Action::Logout,
    Action::PasswordChange,
    Action::PageLogout,
    Action::PagePassword,
    Action::PagePasswordSubmit,
];

/// Whether anyone, signed in or not, may call `action`.
pub fn is_public(action: Action) -> bool {
    matches!(rule(action), Rule::Public)
}

/// May `who` perform `action` at all (before any object is loaded)?
pub fn decide(who: Option<&Principal>, action: Action) -> Result<(), Refusal> {
    match (rule(action), who) {
        (Rule::Public, _) => Ok(()),
        (_, None) => Err(Refusal::SignIn),
        (_, Some(p)) if p.must_change_password && !PASSWORD_CHANGE_ALLOWS.contains(&action) => {
            Err(Refusal::PasswordChange)
        }
        (Rule::Own { token_allowed }, Some(p)) => match p.credential {
            Credential::Token { .. } if !token_allowed => Err(Refusal::Forbidden),
            _ => Ok(()),
        },
        (Rule::Roles(roles, scope), Some(p)) => {
            if !roles.contains(&p.role) {
                return Err(Refusal::Forbidden);
            }
            match &p.credential {
                Credential::Token { scopes, .. } if !scopes.contains(&scope) => {
                    Err(Refusal::Scope(scope))
                }
                _ => Ok(()),
            }
        }
    }
}

/// May `who` perform `action` on an object that belongs to `organisation`? Called by handlers
/// after [`decide`] allowed the action. A member of another organisation is told the object
/// does not exist.
pub fn decide_object(who: &Principal, action: Action, organisation: &str) -> Result<(), Refusal> {
    decide(Some(who), action)?;
    match &who.organisation {
        Some(own) if who.role.is_member() && own != organisation => Err(Refusal::Hidden),
        _ => Ok(()),
    }
}

/// The organisation whose objects `who` may list: a member's own, or None for all.
pub fn visible_organisation(who: &Principal) -> Option<&str> {
    if who.role.is_member() {
        who.organisation.as_deref()
    } else {
        None
    }
}

/// The scopes a role can give its tokens: a token never holds more than its owner.
pub fn scopes_of(role: Role) -> Vec<Scope> {
    Scope::ALL
        .into_iter()
        .filter(|scope| {
            ALL_ACTIONS.iter().any(|a| match rule(*a) {
                Rule::Roles(roles, s) => s == *scope && roles.contains(&role),
                _ => false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, org: Option<&str>) -> Principal {
        Principal {
            user_id: "u1".into(),
            name: "n".into(),
            role,
            organisation: org.map(str::to_string),
            must_change_password: false,
            credential: Credential::Session,
        }
    }

    #[test]
    fn members_of_another_organisation_are_told_nothing_exists() {
        let a = person(Role::Applicant, Some("acme"));
        assert_eq!(decide_object(&a, Action::RunsGet, "acme"), Ok(()));
        assert_eq!(
            decide_object(&a, Action::RunsGet, "other"),
            Err(Refusal::Hidden)
        );
        let staff = person(Role::Assessor, None);
        assert_eq!(decide_object(&staff, Action::RunsGet, "other"), Ok(()));
    }

    #[test]
    fn tokens_need_their_scope_and_cannot_mint_tokens() {
        let mut a = person(Role::Applicant, Some("acme"));
        a.credential = Credential::Token {
            id: "t".into(),
            scopes: vec![Scope::Read],
        };
        assert_eq!(decide(Some(&a), Action::RunsGet), Ok(()));
        assert_eq!(
            decide(Some(&a), Action::RunsCreate),
            Err(Refusal::Scope(Scope::Runs))
        );
        assert_eq!(
            decide(Some(&a), Action::TokensCreate),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn a_password_someone_else_set_is_changed_before_anything_else() {
        let mut a = person(Role::Admin, None);
        a.must_change_password = true;
        assert_eq!(
            decide(Some(&a), Action::UsersList),
            Err(Refusal::PasswordChange)
        );
        assert_eq!(
            decide(Some(&a), Action::TokensCreate),
            Err(Refusal::PasswordChange)
        );
        for allowed in PASSWORD_CHANGE_ALLOWS {
            assert_eq!(decide(Some(&a), *allowed), Ok(()), "{allowed:?}");
        }
        // Public routes stay public.
        assert_eq!(decide(Some(&a), Action::Health), Ok(()));
    }

    #[test]
    fn a_role_gives_only_the_scopes_it_can_use() {
        assert_eq!(scopes_of(Role::Auditor), vec![Scope::Read]);
        assert_eq!(
            scopes_of(Role::Applicant),
            vec![Scope::Read, Scope::Runs, Scope::Models, Scope::Review]
        );
        assert!(scopes_of(Role::Admin).contains(&Scope::Admin));
    }
}
