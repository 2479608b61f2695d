//! Prints the JSON Schema of the send-message request body (feature `schemars`),
//! e.g. to hand it to a form generator or as an LLM tool definition.
//!
//! ```text
//! cargo run -p fanvue-api --features schemars --example schema
//! ```

fn main() {
    let schema = schemars::schema_for!(fanvue_api::types::SendMessageBody);
    match serde_json::to_string_pretty(&schema) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("cannot print the schema: {error}"),
    }
}
