-- Ids for monitors, probe regions and tags.
CREATE SEQUENCE monitor_ids;
CREATE SEQUENCE region_ids;
CREATE SEQUENCE tag_ids;
