// Package processes holds the process managers: the workers that act on the
// log rather than fold it into a read model. Each follows the log (on the
// projections engine, as a projections.Consumer, or on a clock), keeps its
// own state, asks a pure function in domain what to do, and does it through
// a command:
//
//   - IncidentDetector (detector.go): check results and monitor changes →
//     incidents opened and resolved (domain.DetectorMonitor, through
//     commands.OpenIncidentHandler and CloseIncidentHandler);
//   - Notifier (notifier.go): incident events and the clock → who is
//     notified and when, what is suppressed (domain.DecideNotifications,
//     domain.DueNotifications, domain.LateStartEnd, through
//     commands.QueueNotificationsHandler);
//   - Dispatcher (dispatcher.go): the outbox of queued notifications → sent,
//     outcomes recorded (commands.RecordDeliveryHandler);
//   - InviteMailer (invitemailer.go): MemberInvited → the invitation email;
//   - PushWatchdog (pushwatchdog.go): push monitors whose heartbeat is
//     overdue → a failed check (domain.PushHeartbeats, through
//     commands.RecordChecksHandler);
//   - Pruner (pruner.go): ended rate-limit windows and raw results past
//     their retention deleted, every minute.
//
// They read the read models through small interfaces declared here, which
// *projections.Queries implements.
package processes
