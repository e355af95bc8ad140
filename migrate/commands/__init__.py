"""What each command does beneath the door (`migrate.cli`): its options, the session every
command opens (config, account, run), lint's judgement, and how the process ends."""
