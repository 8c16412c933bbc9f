-- Ids for notification channels and rules.
CREATE SEQUENCE channel_ids;
CREATE SEQUENCE rule_ids;
