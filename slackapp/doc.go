// Package slackapp owns Wirewatch's interactive side in Slack: what editors
// do from Slack instead of asking an operator to edit the config file. It
// connects over Socket Mode (no public URL), acknowledges every envelope
// within Slack's 3 seconds, checks who may do what, and turns clicks,
// slash commands and modal submissions into changes of the store (editor
// rules, mutes, feedback), each recorded exactly once in the audit log.
//
// One file per concern:
//
//	socket.go    the Socket Mode connection: open with the app-level token,
//	             reconnect with backoff, acknowledge first, then work
//	actions.go   the buttons on every alert: Not relevant, Mute story,
//	             Mute rule… (a menu); the message is updated to show its state
//	commands.go  the /wirewatch slash command: rules, new, edit, try, mute,
//	             unmute, retire, status, help
//	modals.go    the rule editor (name, query, channels, examples,
//	             counterexamples), checked as `wirewatch check` checks a rule
//	home.go      the App Home tab: the same rules and actions
//	authz.go     who may do what: [slack] editors (users and user groups)
//	deps.go      what the package needs from the store and the rest of
//	             Wirewatch, as narrow interfaces defined here
//	input.go     limits and validation of everything Slack sends (untrusted)
//
// It never posts alerts (notify does) and never matches items (monitor
// does): a rule or mute saved here reaches the monitor and the notifier of
// every replica through the store.
package slackapp
