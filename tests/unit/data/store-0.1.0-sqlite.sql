-- The store's schema as release 0.1.0 created it on SQLite (Base.metadata.create_all at 9fbe863).
-- tests/unit/test_migrations.py builds a 0.1.0 store from it and upgrades it. Never edit.
CREATE TABLE incidents (
	id INTEGER NOT NULL, 
	municipality_code VARCHAR(6) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	fiscal_year INTEGER NOT NULL, 
	origin_key VARCHAR(128) NOT NULL, 
	drill BOOLEAN NOT NULL, 
	declared_class VARCHAR(16) NOT NULL, 
	emergency_class VARCHAR(16), 
	state VARCHAR(32) NOT NULL, 
	summary TEXT NOT NULL, 
	declaration JSON NOT NULL, 
	opened_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (municipality_code, number), 
	UNIQUE (municipality_code, origin_key)
);
CREATE TABLE audit_chain_heads (
	municipality_code VARCHAR(6) NOT NULL, 
	seq INTEGER NOT NULL, 
	last_hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (municipality_code)
);
CREATE TABLE counters (
	municipality_code VARCHAR(6) NOT NULL, 
	series VARCHAR(32) NOT NULL, 
	fiscal_year INTEGER NOT NULL, 
	last INTEGER NOT NULL, 
	PRIMARY KEY (municipality_code, series, fiscal_year)
);
CREATE TABLE absences (
	id INTEGER NOT NULL, 
	municipality_code VARCHAR(6) NOT NULL, 
	registration_key VARCHAR(64) NOT NULL, 
	person_id VARCHAR(32) NOT NULL, 
	starts_at DATETIME NOT NULL, 
	ends_at DATETIME NOT NULL, 
	reason TEXT NOT NULL, 
	registered_by VARCHAR(128) NOT NULL, 
	registered_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (municipality_code, registration_key)
);
CREATE INDEX ix_absences_person_id ON absences (person_id);
CREATE TABLE audit_records (
	id INTEGER NOT NULL, 
	municipality_code VARCHAR(6) NOT NULL, 
	seq INTEGER NOT NULL, 
	event_key VARCHAR(255) NOT NULL, 
	incident_id INTEGER, 
	clause VARCHAR(32) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	actor VARCHAR(128) NOT NULL, 
	on_behalf_of VARCHAR(128), 
	summary TEXT NOT NULL, 
	details JSON NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (municipality_code, seq), 
	UNIQUE (municipality_code, event_key), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);
CREATE TABLE notices (
	id INTEGER NOT NULL, 
	municipality_code VARCHAR(6) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	document_key VARCHAR(255) NOT NULL, 
	incident_id INTEGER NOT NULL, 
	clause VARCHAR(32) NOT NULL, 
	document VARCHAR(64) NOT NULL, 
	recipient_id VARCHAR(64) NOT NULL, 
	recipient VARCHAR(128) NOT NULL, 
	address TEXT NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	charset VARCHAR(16) NOT NULL, 
	doc_number VARCHAR(64) NOT NULL, 
	subject TEXT NOT NULL, 
	body TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error TEXT, 
	delivery_note TEXT, 
	claimed_until DATETIME, 
	archive_path TEXT, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (municipality_code, "key"), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);
CREATE INDEX ix_notices_document_key ON notices (document_key);
CREATE TABLE answers (
	id INTEGER NOT NULL, 
	incident_id INTEGER NOT NULL, 
	ask_key VARCHAR(64) NOT NULL, 
	clause VARCHAR(32) NOT NULL, 
	accepted BOOLEAN NOT NULL, 
	reason TEXT, 
	answerer VARCHAR(128) NOT NULL, 
	capacity VARCHAR(64), 
	payload JSON NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (incident_id, ask_key), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);
CREATE TABLE steps_done (
	id INTEGER NOT NULL, 
	incident_id INTEGER NOT NULL, 
	step_key VARCHAR(128) NOT NULL, 
	result JSON NOT NULL, 
	done_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (incident_id, step_key), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);
CREATE TABLE code_failures (
	id INTEGER NOT NULL, 
	municipality_code VARCHAR(6) NOT NULL, 
	person_id VARCHAR(32) NOT NULL, 
	incident_id INTEGER, 
	ask_key VARCHAR(64) NOT NULL, 
	failed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (municipality_code, incident_id, ask_key), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);
CREATE INDEX ix_code_failures_person_id ON code_failures (person_id);
CREATE TABLE asks (
	id INTEGER NOT NULL, 
	municipality_code VARCHAR(6) NOT NULL, 
	incident_id INTEGER NOT NULL, 
	ask_key VARCHAR(64) NOT NULL, 
	clause VARCHAR(32) NOT NULL, 
	role VARCHAR(32) NOT NULL, 
	flow_run_id VARCHAR(64) NOT NULL, 
	asked_at DATETIME NOT NULL, 
	answered_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (incident_id, ask_key), 
	FOREIGN KEY(incident_id) REFERENCES incidents (id)
);
