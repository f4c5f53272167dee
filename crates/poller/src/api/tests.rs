//! Decoding PlanetScale's responses: odd shapes, odd items, odd bodies.

use super::*;

fn page<T>(
    body: &[u8],
    convert: impl Fn(&Value) -> Result<T, DecodeError>,
) -> Result<Page<T>, DecodeError> {
    decode_page(body, 1, convert)
}

#[test]
fn workflows_tolerate_missing_null_extra_and_unknown() {
    let body = br#"{"type":"list","current_page":1,"next_page":null,"data":[
        {"id":"w1","number":3,"state":"switched_primaries","name":"move-customers",
         "workflow_errors":"","source_keyspace":{"name":"commerce"},"target_keyspace":null,
         "actor":{"id":"u","display_name":"Ada"},"brand_new_field":{"x":1}},
        {"id":"w2","number":4,"state":"hyperspace"}]}"#;
    let page = page(body, workflow).expect("decodes");
    assert_eq!(page.next_page, None);
    assert!(page.unreadable.is_empty());
    assert_eq!(page.items[0].state, WorkflowState::SwitchedPrimaries);
    assert_eq!(page.items[0].workflow_errors, None);
    assert_eq!(page.items[0].source_keyspace.as_deref(), Some("commerce"));
    assert_eq!(page.items[0].target_keyspace, None);
    assert_eq!(page.items[0].actor.as_deref(), Some("Ada"));
    assert_eq!(
        page.items[1].state,
        WorkflowState::Other("hyperspace".into())
    );
    assert_eq!(page.items[1].name, "workflow-4");
}

#[test]
fn numbers_as_text_and_errors_as_lists_are_read() {
    let body = br#"{"data":[
        {"id":"w1","number":"12","state":"error","workflow_errors":["copy failed","row 7"],
         "name":["not","text"],"actor":"someone"},
        {"id":9,"number":13,"state":"running","workflow_errors":{"message":"lag"}}],
        "next_page":"2"}"#;
    let page = page(body, workflow).expect("decodes");
    assert!(page.unreadable.is_empty(), "{:?}", page.unreadable);
    assert_eq!(page.next_page, Some(2));
    assert_eq!(page.items[0].number, 12);
    assert_eq!(
        page.items[0].workflow_errors.as_deref(),
        Some("copy failed\nrow 7")
    );
    // A field of the wrong type that identifies nothing reads as absent.
    assert_eq!(page.items[0].name, "workflow-12");
    assert_eq!(page.items[0].actor, None);
    assert_eq!(page.items[1].id, "9");
    assert_eq!(page.items[1].workflow_errors.as_deref(), Some("lag"));
}

#[test]
fn an_odd_item_is_set_aside_and_the_rest_of_the_page_used() {
    let body = br#"{"data":[
        {"id":"w1","number":1,"state":"running"},
        {"id":"w2","state":"running"},
        {"id":"w3","number":"three","state":"running"},
        {"id":"w4","number":4,"state":["running"]},
        "not an object",
        {"id":"w6","number":6,"state":"copying"}]}"#;
    let page = decode_page(body, 101, workflow).expect("decodes");
    let numbers: Vec<u64> = page.items.iter().map(|w| w.number).collect();
    assert_eq!(numbers, [1, 6]);
    let problems: Vec<(usize, Option<&str>, Option<u64>, &str)> = page
        .unreadable
        .iter()
        .map(|item| {
            (
                item.position,
                item.id.as_deref(),
                item.number,
                item.problem.as_str(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (102, Some("w2"), None, "`number` is missing"),
            (
                103,
                Some("w3"),
                None,
                "`number` is text (\"three\"), not a number"
            ),
            (104, Some("w4"), Some(4), "`state` is a list, not a state"),
            (
                105,
                None,
                None,
                "expected an object, got text (\"not an object\")"
            ),
        ]
    );
}

#[test]
fn deploy_requests_take_the_state_from_deployment_when_needed() {
    let body =
        br#"{"data":[{"id":"d","number":7,"state":"open","deployment":{"state":"in_progress"}},
                            {"id":"e","number":8,"state":"open"},
                            {"id":"f","number":9,"deployment_state":""}],"next_page":2}"#;
    let page = page(body, deploy_request).expect("decodes");
    assert_eq!(
        page.items[0].request.deployment_state,
        DeployState::InProgress
    );
    assert_eq!(page.next_page, Some(2));
    assert!(page.items[1].request.deployment_state.is_unknown());
    assert!(page.items[2].request.deployment_state.is_unknown());
    // No deployment: nothing is said of operations or reverts.
    assert_eq!(page.items[1].operations, None);
    assert_eq!(page.items[1].revert_operations, None);
}

#[test]
fn deploy_request_operations_lint_errors_and_revert_come_with_it() {
    let body = br#"{"id":"d","number":5,"state":"open","deployment_state":"complete_revert_error",
        "deployment":{"state":"complete_revert_error","auto_cutover":false,
          "deploy_check_errors":"","lint_errors":[
            {"lint_error":"NO_UNIQUE_KEY","table_name":"Persons","error_description":"no unique key"},
            {"lint_error":"","error_description":""}],
          "deploy_operations":[
            {"id":"op1","state":"complete","table_name":"Persons","keyspace_name":"ks","operation_name":"ALTER","deploy_errors":""},
            {"id":"op2","table_name":"Orders"}],
          "deployment_revert_request":{"id":"rv","deploy_revert_operations":[
            {"id":"r1","state":"error","table_name":"Persons","operation_name":"ALTER","revert_errors":["table locked"]}]}}}"#;
    let request = decode_one(body, deploy_request).expect("decodes");
    assert_eq!(request.request.auto_cutover, Some(false));
    assert_eq!(request.request.deploy_check_errors, None);
    assert_eq!(request.request.lint_errors.len(), 1);
    assert_eq!(
        request.request.validation_errors().as_deref(),
        Some("no unique key (NO_UNIQUE_KEY)")
    );
    let operations = request.operations.expect("operations");
    assert_eq!(operations.len(), 1);
    assert_eq!(operations[0].deploy_errors, None);
    assert_eq!(
        request.unreadable_operations,
        [(
            "deployment.deploy_operations",
            2,
            "`state` is missing".to_owned()
        )]
    );
    let reverts = request.revert_operations.expect("revert operations");
    assert_eq!(reverts[0].state, OperationState::Error);
    assert_eq!(reverts[0].revert_errors.as_deref(), Some("table locked"));
    assert_eq!(reverts[0].deploy_errors, None);
    let no_revert = br#"{"id":"d","number":5,"deployment":{"deployment_revert_request":null,"deploy_operations":[]}}"#;
    let request = decode_one(no_revert, deploy_request).expect("decodes");
    assert_eq!(request.revert_operations, Some(Vec::new()));
    assert_eq!(request.operations, Some(Vec::new()));
}

#[test]
fn malformed_bodies_are_errors_not_panics() {
    for (body, expected) in [
        (&b""[..], "empty"),
        (b"   ", "empty"),
        (b"{\"data\": [", "not the JSON expected"),
        (b"{\"data\": null}", "`data` is null, not a list"),
        (b"{\"data\": {}}", "`data` is an object"),
        (b"[]", "expected a list object"),
        (b"{}", "no `data`"),
        (b"{\"data\": [], \"next_page\": \"later\"}", "`next_page`"),
        (
            b"<html>502 Bad Gateway</html>",
            "it begins \"<html>502 Bad Gateway</html>\"",
        ),
    ] {
        let error = page(body, workflow).expect_err("fails");
        assert!(
            error.0.contains(expected),
            "{}: {error}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn error_details_are_the_message_or_a_snippet() {
    assert_eq!(
        ApiErrorBody::detail(br#"{"code":"not_found","message":"Not Found"}"#).as_deref(),
        Some("Not Found")
    );
    assert_eq!(
        ApiErrorBody::detail(b"<html>\n<body>upstream   timed out</body>\n</html>").as_deref(),
        Some("<html> <body>upstream timed out</body> </html>")
    );
    assert_eq!(ApiErrorBody::detail(b"{}"), None);
    assert_eq!(ApiErrorBody::detail(b""), None);
    let long = "x".repeat(500);
    assert_eq!(
        ApiErrorBody::detail(long.as_bytes()).map(|text| text.chars().count()),
        Some(121)
    );
}

#[test]
fn branches_and_backups_are_read_in_the_specification_s_shape() {
    let body = br#"{"type":"list","current_page":1,"next_page":null,"data":[
        {"id":"br-main","name":"main","kind":"mysql","state":"ready","production":true,
         "region":{"slug":"us-east"},"brand_new_field":1},
        {"id":"br-dev","name":"dev","production":false},
        {"id":"br-odd","production":true}]}"#;
    let branches = page(body, branch).expect("decodes");
    assert_eq!(branches.items.len(), 2);
    assert!(branches.items[0].production && !branches.items[1].production);
    assert_eq!(branches.items[0].kind.as_deref(), Some("mysql"));
    assert_eq!(branches.unreadable.len(), 1, "a branch without a name");
    let body = br#"{"data":[
        {"id":"bk1","name":"2026.11.23","state":"failed","size":"1048576",
         "started_at":"2026-11-23T09:00:00.000Z","completed_at":null,"required":true},
        {"id":"bk2","state":"success","size":7},
        {"id":"bk3","name":"x"}]}"#;
    let backups = page(body, backup).expect("decodes");
    assert_eq!(backups.items[0].state, "failed");
    assert_eq!(
        backups.items[0].size,
        Some(1_048_576),
        "a size as text is read"
    );
    assert_eq!(backups.items[0].completed_at, None);
    assert_eq!(backups.items[0].branch, "", "the caller's to fill in");
    assert_eq!(backups.items[1].name, "bk2", "no name: the id");
    assert_eq!(backups.unreadable.len(), 1, "a backup without a state");
}
