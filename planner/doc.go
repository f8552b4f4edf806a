// Package planner turns a copy as a form asks for it into a plan: what
// will be made, from what, under which name, where — or why not. It is
// the copy domain, out of the HTTP handlers: no echo, no forms, no
// rendering; the handlers parse, plan, then render the plan's problems or
// submit it.
//
// Shape:
//
//		Request ──Plan(ctx, perms, req)──▶ Plan{Rows, Problems} ──Intents()──▶ tracker.StartBatch
//
//	  - A Request names the kind (Compute → Compute, Compute → Desktop,
//	    desktop → Desktop), the sources (one or many Compute images, or a
//	    desktop), the target folders, a name template (Template; or a plain
//	    name) and the options the forms allow (description, family, minimum
//	    disk size, the whole label set or labels added to each source's).
//	  - A Plan has one Row per source × folder — source, folder, final name,
//	    target service, and the tracker.Intent to submit — with the Problems
//	    of that row, and the Problems of the request as a whole, each naming
//	    the field it is about (so the single-copy form shows it there).
//
// Flow of Plan: parse the template; check the folders (the person may copy
// into each), the options (rules); read every source from the store — a
// source that is gone, or in a folder the person may not see, is a row
// whose problem is MsgGone, the same words for both (Row.Hidden carries the
// folder for the audit log only); expand each row's name and check it
// against the name rules, the source's state and the options; then check
// every name against its target folder exactly, with two indexed
// look-ups per (service, folder) for all the plan's names at once
// (store.ImageNamesTaken: images_folder_name; store.OpenOperationNames:
// operations_folder_name, the operations in flight other than deletes),
// and against the rows before it (a name taken twice in one folder).
// Only when nothing is wrong are the intents built.
//
// Guarantees:
//   - All or nothing: Refused() is true when any row or the request has a
//     problem, and then Intents() is nil; every reason is listed, per row.
//     One copy, a bulk copy and a copy into several folders are the same
//     plan, submitted by the caller with one tracker.StartBatch, which
//     writes all of its intents in one transaction or none.
//   - Exact uniqueness: no paging, no cap — the answer for a name does not
//     depend on how many similar names the folder holds. It is as of the
//     store at planning time; the cloud has the last word (AlreadyExists
//     comes back as the operation's refusal).
//   - A store that cannot be read is an error; anything wrong with what was
//     asked is a problem, never an error: a vanished source is a row
//     problem, not a failure of the request.
//   - Plans are cheap and re-made on every submit (a preview is confirmed
//     by planning again), so nothing planned earlier is trusted later.
//
// The caller checks what only the cloud knows (a desktop's existence and
// folder, before DesktopToDesktop) and what the form itself means (which
// folders it offers, how many it takes).
package planner
