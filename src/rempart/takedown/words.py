"""The words shown for a notice's stored values (status, kind, legal ground, a copy's takedown
state, a re-check's verdict): catalog message ids, one table for the CLI and the web pages.
Pure: no rendering, no store."""

from __future__ import annotations

from rempart.i18n import N_

__all__ = [
    "BASIS_WORDS",
    "KIND_WORDS",
    "REPLIES",
    "STATE_WORDS",
    "STATUS_WORDS",
    "TEMPLATE_WORDS",
]

STATUS_WORDS = {
    "drafted": N_("drafted"),
    "approved": N_("approved"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "submitted": N_("submitted"),
    "uncertain": N_("uncertain"),
    "failed": N_("failed"),
    "acknowledged": N_("acknowledged"),
    "removed": N_("removed"),
    "refused": N_("refused"),
    "disabled": N_("disabled"),
    "no-answer": N_("no answer"),
    "skipped": N_("skipped"),
    "queued": N_("queued"),
}
KIND_WORDS = {
    "dsa": N_("DSA notice"),
    "abuse": N_("abuse report"),
    "delisting": N_("delisting request"),
    "pharos": N_("Pharos report"),
    "hotline": N_("child protection"),
    "manual": N_("to find by hand"),
    "complaint": N_("complaint to the regulator"),
}
BASIS_WORDS = {
    "226-2-1": N_("art. 226-2-1 Code pénal (intimate images shared without consent)"),
    "226-8-1": N_("art. 226-8-1 Code pénal (sexual deepfake)"),
}
# A copy's takedown state (rempart.takedown.tracking.url_state) and re-check verdicts.
STATE_WORDS = {
    "found": N_("found, nobody told yet"),
    "online": N_("online"),
    "changed": N_("changed"),
    "unreachable": N_("unreachable"),
    **STATUS_WORDS,
}
# What a recipient may answer (rempart.takedown.drafting.reply).
REPLIES = ("acknowledged", "removed", "disabled", "refused")

# What the notice templates look words up in.
TEMPLATE_WORDS = {
    "basis_words": BASIS_WORDS,
    "kind_words": KIND_WORDS,
    "state_words": STATE_WORDS,
    "status_words": STATUS_WORDS,
}
