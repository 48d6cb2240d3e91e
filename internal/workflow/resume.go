package workflow

import "slices"

// Resumable are the request workflow's states a redrive (privacyctl
// redrive) can start at: the Choice "Start or resume?", the first state of
// statemachines/request.asl.json, branches to each when the input's
// resume_from names it.
var Resumable = []string{
	"Find the subject's identities in every source",
	"Check the other requests of the same mail",
	"Build the access package",
	"Send the download link and complete",
	"Write the erasure receipt",
	"Confirm the erasure and complete",
	"Record the choice in the suppression list",
	"Confirm the choice and complete",
	"Correct the subject's profile",
	"Confirm the correction and complete",
	"Wait for an operator's decision on the appeal",
	"Grant the appeal and complete",
	"Close the appeal: nothing to appeal",
	"Tell the recipients of the erasure",
	"Tell the recipients of the choice",
	"Tell the recipients of the correction",
}

// ResumesAtIdentities are the states after verification that a redrive
// cannot start at: a failure in any of them resumes at the identities
// step, which recomputes the plan (collecting and erasing are idempotent).
var ResumesAtIdentities = []string{
	"Operator review needed?", "Wait for an operator's decision", "Access or erasure?",
	"Collect from each source", "Collect the subject's records from one source",
	"Erase from each source", "Erase the subject's records from one source", "Wait while a legal hold blocks erasure",
	"Any large source left to collect from?", "Collect from a large source, object by object", "Finish collecting from the large source",
	"Any large source left to erase from?", "Erase in a large source, object by object", "Finish erasing in the large source",
}

// ResumesAtSiblingsCheck are the states of an erasure waiting for the other
// requests of its mail: a failure there checks them again.
var ResumesAtSiblingsCheck = []string{"Other requests of the same mail still open?", "Wait for the other requests of the same mail"}

// ResumesAtTheStepWaitedFor are the waits that go back to the step they
// wait for, by that step: a failure in one resumes at the step, which
// waits again if it must (a task still open, a finding unresolved).
var ResumesAtTheStepWaitedFor = map[string]string{
	"Wait for the owners of manual sources to export":            "Build the access package",
	"Wait for the owners of manual sources to attest erasure":    "Tell the recipients of the erasure",
	"Wait for an operator to resolve the findings":               "Tell the recipients of the erasure",
	"Wait for the owners of manual sources to correct":           "Tell the recipients of the correction",
	"Wait for the owners of manual sources to record the choice": "Tell the recipients of the choice",
}

// ResumePoint is where a redrive starts after a failure at state; false
// for a failure before the subject was verified, which cannot be resumed.
func ResumePoint(state string) (string, bool) {
	switch {
	case slices.Contains(Resumable, state):
		return state, true
	case slices.Contains(ResumesAtIdentities, state):
		return Resumable[0], true
	case slices.Contains(ResumesAtSiblingsCheck, state):
		return "Check the other requests of the same mail", true
	case ResumesAtTheStepWaitedFor[state] != "":
		return ResumesAtTheStepWaitedFor[state], true
	}
	return "", false
}
