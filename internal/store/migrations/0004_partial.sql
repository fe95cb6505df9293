-- Each scan's remediation actions kept apart from its document (read
-- without decoding the document; NULL when the risks changed after the
-- scan and the actions are to be grouped again from them); db_version,
-- when set, is the database a scan's risks were last ranked against,
-- over its document's.
ALTER TABLE scans ADD COLUMN remediation {{blob}};
ALTER TABLE scans ADD COLUMN db_version TEXT;
