//! The state the events leave, folded one event at a time in an order:
//! what a desktop's projections and the sync server's hold. Each event is
//! decided through [`engine::decide`] on what the fold holds, and what the
//! decision changes is taken in; a refused event changes nothing.

use crate::engine::{
    complaint_id, decide, member_username, Change, ComplaintRecord, Context, Decision, Directory,
    Known, MemberRecord,
};
use crate::error::Refusal;
use crate::event::Envelope;
use crate::push::PushDraft;
use crate::reach::ContactRules;
use crate::render::Center;
use crate::workflow::Project;
use std::collections::{BTreeMap, HashMap};

/// Projects, members and complaints, by their keys.
#[derive(Debug, Clone, Default)]
pub struct Fold {
    pub projects: HashMap<String, Project>,
    pub members: BTreeMap<String, MemberRecord>,
    pub complaints: BTreeMap<String, ComplaintRecord>,
}

/// What an accepted event changed (its key), and the decision's pushes.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub changed: Changed,
    pub decision: Decided,
}

/// The key of what an accepted event changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Project { code: String, registered: bool },
    Member(String),
    Complaint(String),
    Survey,
    PushesOnly,
}

/// A decision without its change (the fold took that in).
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub pushes: Vec<PushDraft>,
    pub silenced: Vec<crate::engine::Silenced>,
}

/// The context a fold decides events again in: the default center and
/// contact rules, and a stand-in per staff role (`Directory::stand_ins`):
/// who was addressed and how is not part of what the events leave.
pub fn replaying() -> Context<'static> {
    static PARTS: std::sync::OnceLock<(Center, Directory, ContactRules)> =
        std::sync::OnceLock::new();
    let (center, staff, rules) = PARTS.get_or_init(|| {
        (
            Center::default(),
            Directory::stand_ins(),
            ContactRules::default(),
        )
    });
    Context {
        center,
        staff,
        rules,
    }
}

impl Fold {
    /// What `env` refers to, taken out of the fold (the project is moved,
    /// not copied; `take_in` or `put_back` returns it).
    fn known(&mut self, env: &Envelope) -> Known {
        let mut known = Known::default();
        if let Some(code) = &env.project {
            known.project = self.projects.remove(code);
            known.project_known = known.project.is_some();
        }
        if let Some(username) = member_username(&env.body) {
            known.member = self.members.get(username).cloned();
        }
        if let Some(c) = complaint_id(&env.body) {
            known.complaint = self.complaints.get(c).cloned();
        }
        known
    }

    /// Decide one event on what the fold holds and take in what it
    /// changes; the refusal if it is refused (nothing changes then).
    pub fn step(&mut self, env: &Envelope, ctx: &Context) -> Result<Applied, Refusal> {
        let mut known = self.known(env);
        let decision = decide(env, &known, ctx);
        let Decision {
            change,
            pushes,
            silenced,
        } = match decision {
            Ok(d) => d,
            Err(refusal) => {
                self.put_back(env, known.project.take());
                return Err(refusal);
            }
        };
        let changed = match change {
            Change::Project {
                project,
                registered,
                ..
            } => {
                let code = project.code.clone();
                self.projects.insert(code.clone(), project);
                Changed::Project { code, registered }
            }
            Change::Member(m) => {
                let username = m.party.username.clone().unwrap_or_default();
                self.members.insert(username.clone(), m);
                Changed::Member(username)
            }
            Change::Complaint(c) => {
                let id = c.complaint.id.clone();
                self.complaints.insert(id.clone(), c);
                Changed::Complaint(id)
            }
            Change::Survey => Changed::Survey,
            Change::PushesOnly => Changed::PushesOnly,
        };
        // An accepted event that left its project unchanged (a complaint
        // about it) puts it back as it was.
        self.put_back(env, known.project.take());
        Ok(Applied {
            changed,
            decision: Decided { pushes, silenced },
        })
    }

    fn put_back(&mut self, env: &Envelope, project: Option<Project>) {
        if let (Some(code), Some(p)) = (&env.project, project) {
            self.projects.entry(code.clone()).or_insert(p);
        }
    }
}
