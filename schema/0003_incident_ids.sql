-- Ids for incidents and maintenance windows.
CREATE SEQUENCE incident_ids;
CREATE SEQUENCE maintenance_ids;
