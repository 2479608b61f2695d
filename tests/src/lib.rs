//! A stateful local fake of the Fanvue API and S3 (placeholder).
