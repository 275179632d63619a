// Package zenmllogstore holds a ZenML-style custom log store in Python
// (runlog_log_store.py, standard library only) whose fetch reads runlog's
// HTTP API; its test runs it with python3 against serve.New over a real
// local store.
package zenmllogstore
