//! 取込プロファイル and the previewed uploads against the real server, on SQLite and (with
//! REGWATCH_TEST_POSTGRES_URL) PostgreSQL: the `/api/v1/import-profiles` API (TOML in and out,
//! unknown keys named, roles, audit), API uploads through a profile (`profile=`, `dry_run=`,
//! `received_on=`; another insurer's profile is not usable), Excel and refused encodings, the
//! editor pages (sample file, suggestions, the rows as read, save, TOML export), the import page's
//! upload with a profile (preview, then commit), and an e-Gov file.
mod common;

use chrono::NaiveDate;
use common::{
    get_json, login_cookie, login_token, multipart, page, status_json, with_cookie, ymd as d,
    TestApp,
};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use regwatch::ingest::Profile;
use regwatch::store::insurers::Insurer;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::Method;
use serde_json::Value;

const PASSWORD: &str = "correct-horse-battery";

/// An insurer's own export: a title row, its own headers (row 2), kind codes (01 資格取得,
/// 03 資格喪失), slashed dates and 有/無 for the My Number.
const OWN_LAYOUT: &str = "資格異動届 受付一覧（令和7年度）,,,,,,,,,\n\
受付No,届出区分,事業所番号,事業所名,記号,番号,氏名漢字,資格取得日,受付年月日,マイナンバー有無\n\
P-001,01,E01,株式会社テスト,100,1,山田 太郎,2025/04/21,2025/04/24,有\n\
P-002,01,E01,株式会社テスト,100,2,山田 次郎,2025/05/01,2025/05/20,無\n\
P-003,03,E02,テスト商事,200,7,佐藤 花子,2025/06/01,2025/06/03,有\n";

/// The profile that reads [`OWN_LAYOUT`]. 事業所名 and 受付年月日 are regwatch's own aliases
/// (found without a mapping).
const OWN_PROFILE: &str = r#"[notices]
header_row = 2

[notices.columns]
notice_id = "受付No"
kind = "届出区分"
employer_code = "事業所番号"
member_symbol = "記号"
member_number = "番号"
name = "氏名漢字"
event_date = "資格取得日"
my_number_status = "マイナンバー有無"

[notices.values.kind]
"01" = "acquisition"
"03" = "loss"
"#;

/// The same layout without the title row (the header is row 1).
fn plain_layout() -> String {
    OWN_LAYOUT.split_once('\n').unwrap().1.to_string()
}

/// The e-Gov sample of `src/ingest/egov.rs` (an SHFD0006.CSV with one 資格取得届).
const EGOV: &str = "21,01,ｹｲﾄ,001,20250410,22223\r\n[kanri]\r\n,001\r\n21,01,ｹｲﾄ,12345,100,0013,東京都千代田区霞が関１－２－２,健保サービス株式会社,健保　良一,03,1234,5678\r\n[data]\r\n2200700,21,01,ｹｲﾄ,12345,101,ﾔﾏﾀﾞ ﾀﾛｳ,山田　太郎,7,020515,1,1,,,,1234,567890,9,070401,1,0300000,0000000,0300000,,,,,,100,0013,ﾄｳｷｮｳﾄ,東京都千代田区,,\r\n";

struct World {
    app: TestApp,
    a: Insurer,
    admin: String,
    staff: String,
    viewer: String,
    b_admin: String,
}

/// Insurer A (健保) with an admin, a staff member and a viewer; insurer B (共済) with an admin.
/// No data.
async fn world() -> World {
    let app = TestApp::builder()
        .with_insurer("06123456", InsurerKind::Kenpo)
        .with_insurer("34123456", InsurerKind::Kyosai)
        .with_admin("06123456", "admin@a.example.jp", PASSWORD)
        .with_staff("06123456", "staff@a.example.jp", PASSWORD)
        .with_viewer("06123456", "viewer@a.example.jp", PASSWORD)
        .with_admin("34123456", "admin@b.example.jp", PASSWORD)
        .spawn()
        .await;
    World {
        admin: "admin@a.example.jp".into(),
        staff: "staff@a.example.jp".into(),
        viewer: "viewer@a.example.jp".into(),
        b_admin: "admin@b.example.jp".into(),
        a: app.insurer("06123456").clone(),
        app,
    }
}

/// PUT /api/v1/import-profiles/{name} with a TOML body.
async fn put_profile(app: &TestApp, token: &str, name: &str, toml: &str) -> (u16, Value) {
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/import-profiles/{name}"),
            token,
        )
        .header(CONTENT_TYPE, "application/toml")
        .body(toml.to_string())
        .send()
        .await
        .unwrap();
    status_json(r).await
}

/// A multipart upload of one file to `/api/v1/imports/{kind}{query}`.
async fn api_upload(
    app: &TestApp,
    token: &str,
    kind: &str,
    query: &str,
    file_name: &str,
    content: &[u8],
) -> (u16, Value) {
    let path = format!("/api/v1/imports/{kind}{query}");
    status_json(app.upload(token, &path, file_name, content).await).await
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// The notices stored for an insurer: (受付番号, kind, event date, received date, My Number
/// status), by 受付番号.
fn stored(app: &TestApp, insurer: &Insurer) -> Vec<(String, String, NaiveDate, NaiveDate, String)> {
    use regwatch::store::schema::notices;
    let mut c = app.db.conn();
    notices::table
        .filter(notices::insurer_id.eq(insurer.id.0))
        .order(notices::notice_id.asc())
        .select((
            notices::notice_id,
            notices::kind,
            notices::event_date,
            notices::received_on,
            notices::my_number_status,
        ))
        .load(&mut c)
        .unwrap()
}

fn batch_count(app: &TestApp) -> i64 {
    use regwatch::store::schema::import_batches;
    let mut c = app.db.conn();
    import_batches::table.count().get_result(&mut c).unwrap()
}

/// The audit entries of one action, newest first, as (target, detail).
async fn audit(app: &TestApp, admin: &str, action: &str) -> Vec<(String, String)> {
    let (status, list) = get_json(app, admin, &format!("/api/v1/audit?action={action}")).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["target"].as_str().unwrap_or("").to_string(),
                e["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The `<select>` named `name` in a page: its options' values, and the value of the selected one.
fn select(html: &str, name: &str) -> (Vec<String>, Option<String>) {
    let start = html
        .find(&format!("<select id=\"{name}\" name=\"{name}\">"))
        .unwrap_or_else(|| panic!("no select {name} in the page"));
    let block = &html[start..];
    let block = &block[..block.find("</select>").expect("select closed")];
    let mut values = Vec::new();
    let mut selected = None;
    for opt in block.split("<option").skip(1) {
        let value = opt
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or("")
            .to_string();
        let tag = opt.split('>').next().unwrap_or("");
        if tag.contains("selected") {
            selected = Some(value.clone());
        }
        values.push(value);
    }
    (values, selected)
}

/// The rows of the editor's preview table (`#preview-table`): each row's cell texts.
fn preview_rows(html: &str) -> Vec<Vec<String>> {
    let start = html
        .find("id=\"preview-table\"")
        .unwrap_or_else(|| panic!("no preview table in the page: {html}"));
    let table = &html[start..];
    let table = &table[..table.find("</table>").unwrap()];
    let body = table.split("<tbody>").nth(1).unwrap_or("");
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = cell.split_once('>').map_or("", |(_, rest)| rest);
                    inner.split("</td>").next().unwrap_or("").trim().to_string()
                })
                .collect()
        })
        .collect()
}

/// The editor's form fields for [`OWN_LAYOUT`]'s headers.
fn own_columns() -> Vec<(&'static str, &'static str)> {
    vec![
        ("col_notice_id", "受付No"),
        ("col_kind", "届出区分"),
        ("col_employer_code", "事業所番号"),
        ("col_member_symbol", "記号"),
        ("col_member_number", "番号"),
        ("col_name", "氏名漢字"),
        ("col_event_date", "資格取得日"),
        ("col_my_number_status", "マイナンバー有無"),
    ]
}

// ---------------------------------------------------------------------------------------------
// 1. The profiles API

#[tokio::test]
async fn profiles_are_put_as_toml_read_back_listed_checked_by_role_deleted_and_audited() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let viewer = login_token(&w.app, &w.viewer, PASSWORD).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;

    let (status, body) = put_profile(&w.app, &staff, "自社様式", OWN_PROFILE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "自社様式");
    assert_eq!(body["updated_by"], w.staff.as_str());
    let id = body["id"].as_i64().expect("an id");
    let expected = Profile::from_toml_str(OWN_PROFILE).unwrap();
    assert_eq!(
        Profile::from_toml_str(body["toml"].as_str().unwrap()).unwrap(),
        expected
    );
    let n = expected.notices.as_ref().unwrap();
    assert_eq!(n.header_row, 2);
    assert_eq!(n.columns["notice_id"], "受付No");
    assert_eq!(n.values["kind"]["01"], "acquisition");

    // GET gives the TOML itself, as a download for `regwatch import --profile`.
    let r = w
        .app
        .client
        .get(w.app.url("/api/v1/import-profiles/自社様式"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a viewer may read profiles");
    let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/toml"), "{ct}");
    let cd = r.headers()[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.contains(&format!("profile-{id}.toml")), "{cd}");
    let text = r.text().await.unwrap();
    assert_eq!(Profile::from_toml_str(&text).unwrap(), expected, "{text}");

    // The list.
    let (status, list) = get_json(&w.app, &viewer, "/api/v1/import-profiles").await;
    assert_eq!(status, 200);
    let items = list.as_array().expect("a list");
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["id"].as_i64(), &items[0]["name"]),
        (Some(id), &Value::from("自社様式"))
    );

    // Unknown keys, fields and values are refused naming them; nothing changes.
    let (status, e) = put_profile(&w.app, &staff, "自社様式", "[notices]\nheader_rows = 2\n").await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["code"], "bad_request");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("header_rows"),
        "{e}"
    );
    let (status, e) = put_profile(
        &w.app,
        &staff,
        "自社様式",
        "[notices.columns]\nreceipt_no = \"受付No\"\n",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("receipt_no"),
        "{e}"
    );
    let (status, e) = put_profile(
        &w.app,
        &staff,
        "自社様式",
        "[notices.values.kind]\n\"01\" = \"join\"\n",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("join"),
        "{e}"
    );
    let (status, e) = put_profile(&w.app, &staff, "空", "").await;
    assert_eq!(status, 400, "a profile with neither part: {e}");
    let r = w
        .app
        .client
        .put(w.app.url("/api/v1/import-profiles/sjis"))
        .bearer_auth(&staff)
        .body(vec![0x82u8, 0xA0, b'\n'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "not UTF-8");
    let (_, list) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, again) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    assert_eq!(
        Profile::from_toml_str(again[0]["toml"].as_str().unwrap()).unwrap(),
        expected,
        "the refused PUTs left the profile as it was"
    );

    // A viewer can neither save nor delete.
    let (status, _) = put_profile(
        &w.app,
        &viewer,
        "自社様式",
        "[registrations.columns]\nmember_symbol = \"記号\"\n",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = put_profile(&w.app, &viewer, "閲覧者の", OWN_PROFILE).await;
    assert_eq!(status, 403);
    let r = w
        .app
        .client
        .delete(w.app.url("/api/v1/import-profiles/自社様式"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, list) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Replacing keeps the id.
    let (status, body) = put_profile(
        &w.app,
        &staff,
        "自社様式",
        &format!("{OWN_PROFILE}\n[registrations.columns]\nnotice_id = \"受付No\"\n"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"].as_i64(), Some(id));
    assert!(body["toml"].as_str().unwrap().contains("[registrations"));

    // Delete; then it is gone.
    let r = w
        .app
        .client
        .delete(w.app.url("/api/v1/import-profiles/自社様式"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, e) = get_json(&w.app, &staff, "/api/v1/import-profiles/自社様式").await;
    assert_eq!(status, 404, "{e}");
    let r = w
        .app
        .client
        .delete(w.app.url("/api/v1/import-profiles/自社様式"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "deleting twice");
    let (_, list) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    assert_eq!(list, Value::Array(vec![]));

    // The audit log has who saved (twice) and deleted it; the refused attempts are not there.
    let saves = audit(&w.app, &admin, "import_profile_save").await;
    assert_eq!(saves.len(), 2, "{saves:?}");
    assert!(
        saves.iter().all(|(target, _)| target == "自社様式"),
        "{saves:?}"
    );
    let deletes = audit(&w.app, &admin, "import_profile_delete").await;
    assert_eq!(deletes, vec![("自社様式".to_string(), "削除".to_string())]);
    let (_, all) = get_json(&w.app, &admin, "/api/v1/audit?action=import_profile_delete").await;
    assert_eq!(all["items"][0]["actor"], w.staff.as_str());
}

// ---------------------------------------------------------------------------------------------
// 2. API uploads through a profile

#[tokio::test]
async fn an_api_upload_with_a_profile_is_read_in_the_insurers_layout_dry_run_stores_nothing() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    let b_admin = login_token(&w.app, &w.b_admin, PASSWORD).await;
    assert_eq!(
        put_profile(&w.app, &staff, "自社様式", OWN_PROFILE).await.0,
        200
    );

    // Without the profile the file cannot be read: regwatch's required columns are missing.
    let (status, e) = api_upload(
        &w.app,
        &staff,
        "notices",
        "",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "import_failed");

    // A dry run tells what it would change and stores nothing (batch_id 0).
    let (status, s) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=自社様式&dry_run=1",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["batch_id"], 0);
    assert_eq!(
        (
            s["new"].as_u64(),
            s["changed"].as_u64(),
            s["rejected"].as_u64()
        ),
        (Some(3), Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(s["rows_read"], 3);
    assert!(stored(&w.app, &w.a).is_empty());
    assert_eq!(batch_count(&w.app), 0);
    assert_eq!(
        get_json(&w.app, &staff, "/api/v1/imports").await.1["total"],
        0
    );
    assert!(
        audit(&w.app, &admin, "import").await.is_empty(),
        "a dry run is not audited"
    );
    let (status, e) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=自社様式&dry_run=yes",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("dry_run"));

    // The real load: the codes and dates as the profile reads them.
    let (status, s) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=自社様式",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["new"].as_u64(), s["rejected"].as_u64()),
        (Some(3), Some(0))
    );
    let batch = s["batch_id"].as_i64().unwrap();
    assert!(batch > 0);
    assert_eq!(
        stored(&w.app, &w.a),
        vec![
            (
                "P-001".into(),
                "acquisition".into(),
                d(2025, 4, 21),
                d(2025, 4, 24),
                "valid".into()
            ),
            (
                "P-002".into(),
                "acquisition".into(),
                d(2025, 5, 1),
                d(2025, 5, 20),
                "missing".into()
            ),
            (
                "P-003".into(),
                "loss".into(),
                d(2025, 6, 1),
                d(2025, 6, 3),
                "valid".into()
            ),
        ]
    );
    let imports = audit(&w.app, &admin, "import").await;
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].0, "own.csv");
    assert!(
        imports[0].1.contains("取込プロファイル「自社様式」"),
        "{imports:?}"
    );
    // The same file again, previewed: nothing new.
    let (_, s) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=自社様式&dry_run=1",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(
        (s["new"].as_u64(), s["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{s}"
    );

    // A code the profile does not map rejects that row, by line.
    let extra = format!(
        "{OWN_LAYOUT}P-004,05,E01,株式会社テスト,100,9,山田 四郎,2025/06/10,2025/06/12,有\n"
    );
    let (status, s) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=自社様式&dry_run=1",
        "own.csv",
        extra.as_bytes(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(s["rejected"], 1, "{s}");
    assert_eq!(s["rejects"][0]["line"], 6);
    let reason = s["rejects"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("「05」") && reason.contains("kind"),
        "{reason}"
    );

    // An unknown profile name is refused naming it; nothing is read.
    let (status, e) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=他社様式",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "import_failed");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("他社様式"),
        "{e}"
    );

    // A profile only insurer B has is not A's to use, even by its id.
    let (status, b_body) = put_profile(&w.app, &b_admin, "共済様式", OWN_PROFILE).await;
    assert_eq!(status, 200);
    let b_id = b_body["id"].as_i64().unwrap();
    for key in ["共済様式".to_string(), b_id.to_string()] {
        let (status, e) = api_upload(
            &w.app,
            &staff,
            "notices",
            &format!("?profile={key}&dry_run=1"),
            "own.csv",
            OWN_LAYOUT.as_bytes(),
        )
        .await;
        assert_eq!(status, 422, "{key}: {e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(&key),
            "{e}"
        );
    }
    assert_eq!(
        get_json(&w.app, &staff, "/api/v1/import-profiles/共済様式")
            .await
            .0,
        404
    );
    // B uses its own.
    let (status, s) = api_upload(
        &w.app,
        &b_admin,
        "notices",
        "?profile=共済様式&dry_run=1",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!((status, s["new"].as_u64()), (200, Some(3)), "{s}");

    // A profile without a part for the file kind is refused naming what is missing.
    assert_eq!(
        put_profile(
            &w.app,
            &staff,
            "登録結果だけ",
            "[registrations.columns]\nnotice_id = \"受付No\"\n"
        )
        .await
        .0,
        200
    );
    let (status, e) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=登録結果だけ",
        "own.csv",
        OWN_LAYOUT.as_bytes(),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("届書の設定がありません"),
        "{e}"
    );

    assert_eq!(batch_count(&w.app), 1, "only the one real load of A");
}

// ---------------------------------------------------------------------------------------------
// 3. Excel and encodings

#[tokio::test]
async fn an_xlsx_in_regwatchs_headers_loads_without_a_profile_and_euc_jp_is_refused_by_name() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;

    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy/m/d");
    let ws = wb.add_worksheet();
    ws.set_name("届書").unwrap();
    let header = [
        "受付番号",
        "届書種別",
        "事業所記号",
        "事業所名称",
        "被保険者記号",
        "被保険者番号",
        "氏名",
        "事実発生日",
        "受付日",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // X-1: date cells and a number cell; X-2: dates as text.
    ws.write_string(1, 0, "X-1").unwrap();
    ws.write_string(1, 1, "資格取得").unwrap();
    ws.write_string(1, 2, "E01").unwrap();
    ws.write_string(1, 3, "株式会社テスト").unwrap();
    ws.write_string(1, 4, "100").unwrap();
    ws.write_number(1, 5, 11.0).unwrap();
    ws.write_string(1, 6, "田中 一").unwrap();
    ws.write_datetime_with_format(1, 7, ExcelDateTime::from_ymd(2025, 4, 21).unwrap(), &date)
        .unwrap();
    ws.write_datetime_with_format(1, 8, ExcelDateTime::from_ymd(2025, 4, 24).unwrap(), &date)
        .unwrap();
    for (c, v) in [
        "X-2",
        "資格喪失",
        "E01",
        "株式会社テスト",
        "100",
        "12",
        "田中 二",
        "2025-05-01",
        "2025-05-02",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, c as u16, *v).unwrap();
    }
    let xlsx = wb.save_to_buffer().unwrap();

    let (status, s) = api_upload(&w.app, &staff, "notices", "", "届書.xlsx", &xlsx).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["new"].as_u64(), s["rejected"].as_u64()),
        (Some(2), Some(0)),
        "{s}"
    );
    assert_eq!(s["file_name"], "届書.xlsx");
    let rows = stored(&w.app, &w.a);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[0].0[..], &rows[0].1[..], rows[0].2, rows[0].3),
        ("X-1", "acquisition", d(2025, 4, 21), d(2025, 4, 24))
    );
    assert_eq!(
        (&rows[1].0[..], &rows[1].1[..], rows[1].2, rows[1].3),
        ("X-2", "loss", d(2025, 5, 1), d(2025, 5, 2))
    );
    {
        use regwatch::store::schema::{members, notices};
        let mut c = w.app.db.conn();
        let number: String = notices::table
            .inner_join(members::table)
            .filter(notices::notice_id.eq("X-1"))
            .select(members::number)
            .first(&mut c)
            .unwrap();
        assert_eq!(number, "11", "a number cell reads without its .0");
    }

    // The same rows in EUC-JP: refused naming the encoding, nothing stored, audited.
    let csv = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,氏名,事実発生日,受付日\n\
E-1,資格取得,E01,株式会社テスト,100,21,鈴木 一,2025-06-02,2025-06-03\n";
    let (euc, _, _) = encoding_rs::EUC_JP.encode(csv);
    let (status, e) = api_upload(&w.app, &staff, "notices", "", "euc.csv", &euc).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "import_failed");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("EUC-JP"),
        "{e}"
    );
    assert_eq!(stored(&w.app, &w.a).len(), 2);
    let failed = audit(&w.app, &admin, "import_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "euc.csv");
    assert!(failed[0].1.contains("EUC-JP"), "{failed:?}");
    // Through a profile too, and as a dry run.
    assert_eq!(put_profile(&w.app, &staff, "p", OWN_PROFILE).await.0, 200);
    let (status, e) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?profile=p&dry_run=1",
        "euc.csv",
        &euc,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("EUC-JP"),
        "{e}"
    );
    // Shift_JIS is read.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
    let (status, s) = api_upload(&w.app, &staff, "notices", "", "sjis.csv", &sjis).await;
    assert_eq!((status, s["new"].as_u64()), (200, Some(1)), "{s}");
}

// ---------------------------------------------------------------------------------------------
// 4. The editor pages

#[tokio::test]
async fn the_editor_reads_a_sample_suggests_columns_previews_rows_saves_and_exports() {
    let w = world().await;
    let s = login_cookie(&w.app, &w.staff, PASSWORD).await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let plain = plain_layout();

    // The sample needs the token before the file, and the staff role.
    let (ct, body) = multipart(&[
        ("part", None, b"notices"),
        ("file", Some("見本.csv"), plain.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/sample", &s)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no token");
    let v = login_cookie(&w.app, &w.viewer, PASSWORD).await;
    let (ct, body) = multipart(&[
        ("csrf", None, v.csrf.as_bytes()),
        ("part", None, b"notices"),
        ("file", Some("見本.csv"), plain.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/sample", &v)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a viewer");
    assert_eq!(
        page(&w.app, &v, "/imports/profiles/edit?part=notices")
            .await
            .0,
        403
    );

    let (ct, body) = multipart(&[
        ("csrf", None, s.csrf.as_bytes()),
        ("part", None, b"notices"),
        ("file", Some("見本.csv"), plain.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/sample", &s)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let upload: i64 = to
        .strip_prefix("/imports/profiles/edit?part=notices&upload=")
        .unwrap_or_else(|| panic!("{to}"))
        .parse()
        .unwrap();

    // The editor shows the sample, suggests a column for each field from the header text, and
    // previews the rows (kind codes not mapped yet: every row rejected, with the reason).
    let (status, html) = page(&w.app, &s, &to).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("見本.csv"), "the sample's name");
    for h in ["受付No", "届出区分", "資格取得日", "マイナンバー有無"] {
        assert!(html.contains(&format!("<td>{h}</td>")), "header cell {h}");
    }
    assert!(html.contains("<td>P-003</td>"), "the sample's rows");
    let (options, chosen) = select(&html, "col_event_date");
    assert_eq!(chosen.as_deref(), Some("資格取得日"), "{options:?}");
    assert!(options.contains(&"受付No".to_string()), "{options:?}");
    for (field, header) in [
        ("col_notice_id", "受付No"),
        ("col_kind", "届出区分"),
        ("col_employer_code", "事業所番号"),
        ("col_member_symbol", "記号"),
        ("col_member_number", "番号"),
        ("col_name", "氏名漢字"),
        ("col_my_number_status", "マイナンバー有無"),
    ] {
        assert_eq!(select(&html, field).1.as_deref(), Some(header), "{field}");
    }
    // regwatch's own names are found without a mapping.
    assert_eq!(select(&html, "col_received_on").1, None);
    assert!(html.contains("自動（受付年月日）"));
    assert!(html.contains("自動（事業所名）"));
    assert!(
        html.contains("見本にある値: 01、03"),
        "the codes seen in the kind column"
    );
    let rows = preview_rows(&html);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter().all(|r| r.last().is_some_and(|e| !e.is_empty())),
        "{rows:?}"
    );

    // 「読み取りを確認」 with the codes mapped: the rows as the import reads them; 03 not mapped.
    let upload_s = upload.to_string();
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", s.csrf.as_str()),
        ("edited", "1"),
        ("part", "notices"),
        ("upload", upload_s.as_str()),
        ("header_row", "1"),
        ("val_kind", "01=acquisition"),
        ("val_my_number_status", ""),
    ];
    form.extend(own_columns());
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/edit", &s)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let rows = preview_rows(&html);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][0], "2", "line of the file");
    assert_eq!(&rows[0][1..4], ["P-001", "資格取得届", "E01"], "{rows:?}");
    assert!(rows[0].contains(&"2025-04-21".to_string()), "{rows:?}");
    assert!(rows[0].contains(&"2025-04-24".to_string()), "{rows:?}");
    assert_eq!(rows[1][1], "P-002");
    assert_eq!(rows[2][0], "4");
    let reason = rows[2].last().unwrap();
    assert!(
        reason.contains("届出区分") && reason.contains("「03」") && reason.contains("（kind）"),
        "{reason}"
    );
    assert!(rows[0].last().unwrap().is_empty() && rows[1].last().unwrap().is_empty());
    assert_eq!(
        select(&html, "col_event_date").1.as_deref(),
        Some("資格取得日")
    );
    assert!(
        html.contains(">01=acquisition</textarea>"),
        "the value map is kept"
    );

    // A malformed value line is named; the editor stays usable.
    let mut bad = form.clone();
    bad.retain(|(k, _)| *k != "val_kind");
    bad.push(("val_kind", "01→acquisition"));
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/edit", &s)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("kind の値の対応の 1 行目"), "{html}");
    // Posting the editor needs the token.
    let mut no_token = form.clone();
    no_token.retain(|(k, _)| *k != "csrf");
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/edit", &s)
        .form(&no_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Save: without the token refused, nothing saved.
    let mut save: Vec<(&str, &str)> = form.clone();
    save.retain(|(k, _)| *k != "val_kind");
    save.push(("val_kind", "01=acquisition\n03=loss"));
    save.push(("name", "自社様式"));
    let mut save_no_token = save.clone();
    save_no_token.retain(|(k, _)| *k != "csrf");
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/save", &s)
        .form(&save_no_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        get_json(&w.app, &staff, "/api/v1/import-profiles").await.1,
        Value::Array(vec![])
    );
    // A save without a name is refused on the page.
    let mut unnamed = save.clone();
    unnamed.retain(|(k, _)| *k != "name");
    unnamed.push(("name", "  "));
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/save", &s)
        .form(&unnamed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("名前を入力してください"));

    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/save", &s)
        .form(&save)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/imports/profiles/edit?id="), "{to}");
    assert!(
        to.contains("saved=1") && to.contains(&format!("upload={upload}")),
        "{to}"
    );
    let id: i64 = to["/imports/profiles/edit?id=".len()..]
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (status, html) = page(&w.app, &s, &to).await;
    assert_eq!(status, 200);
    assert!(html.contains("保存しました"));
    assert!(html.contains("自社様式"));
    assert_eq!(
        select(&html, "col_event_date").1.as_deref(),
        Some("資格取得日"),
        "the stored mapping"
    );
    assert!(html.contains(&format!("/imports/profiles/{id}/profile.toml")));

    // The API lists it; the TOML is what was edited.
    let (_, list) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (list[0]["id"].as_i64(), &list[0]["name"]),
        (Some(id), &Value::from("自社様式"))
    );
    let saved = Profile::from_toml_str(list[0]["toml"].as_str().unwrap()).unwrap();
    let n = saved.notices.as_ref().unwrap();
    assert_eq!(n.header_row, 1);
    assert_eq!(n.columns.len(), 8, "{n:?}");
    assert_eq!(n.columns["event_date"], "資格取得日");
    assert_eq!(n.values["kind"].len(), 2);
    assert_eq!(n.values["kind"]["03"], "loss");
    assert!(saved.registrations.is_none());

    // The TOML download of the page is the same profile.
    let r = with_cookie(
        &w.app,
        Method::GET,
        &format!("/imports/profiles/{id}/profile.toml"),
        &s,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/toml"));
    assert_eq!(
        Profile::from_toml_str(&r.text().await.unwrap()).unwrap(),
        saved
    );

    // Saving the other part under the same name keeps this one.
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/save", &s)
        .form(&[
            ("csrf", s.csrf.as_str()),
            ("part", "registrations"),
            ("id", &id.to_string()),
            ("name", "自社様式"),
            ("header_row", "1"),
            ("col_notice_id", "受付No"),
            ("val_result", "0=ok\n9=error"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with(&format!(
        "/imports/profiles/edit?id={id}&part=registrations"
    )));
    let (_, list) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    let both = Profile::from_toml_str(list[0]["toml"].as_str().unwrap()).unwrap();
    assert_eq!(both.notices, saved.notices);
    assert_eq!(
        both.registrations.as_ref().unwrap().values["result"]["9"],
        "error"
    );

    // A file with a title row: the header row chosen, the mapping is suggested from that row.
    let (ct, body) = multipart(&[
        ("csrf", None, s.csrf.as_bytes()),
        ("part", None, b"notices"),
        ("file", Some("一覧.csv"), OWN_LAYOUT.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/sample", &s)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let titled: String = to.rsplit("upload=").next().unwrap().to_string();
    let (status, html) = page(&w.app, &s, &to).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<td>資格異動届 受付一覧（令和7年度）</td>"),
        "the title row is shown"
    );
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/edit", &s)
        .form(&[
            ("csrf", s.csrf.as_str()),
            ("part", "notices"),
            ("upload", titled.as_str()),
            ("header_row", "2"),
            ("val_kind", "01=acquisition\n03=loss"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert_eq!(
        select(&html, "col_event_date").1.as_deref(),
        Some("資格取得日")
    );
    assert_eq!(select(&html, "col_notice_id").1.as_deref(), Some("受付No"));
    let rows = preview_rows(&html);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        (&rows[0][0][..], &rows[0][1][..]),
        ("3", "P-001"),
        "{rows:?}"
    );
    assert_eq!(rows[2][2], "資格喪失届", "{rows:?}");

    // TOML import from the page, and deletion from the page.
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/import", &s)
        .form(&[
            ("csrf", s.csrf.as_str()),
            ("name", "取込用"),
            ("toml", OWN_PROFILE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        to.starts_with("/imports/profiles/edit?id=") && to.ends_with("&saved=1"),
        "{to}"
    );
    let r = with_cookie(&w.app, Method::POST, "/imports/profiles/import", &s)
        .form(&[
            ("csrf", s.csrf.as_str()),
            ("name", "壊れ"),
            ("toml", "[notices]\nsheet_name = 1\n"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("sheet_name"));
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/profiles/{id}/delete"),
        &s,
    )
    .form(&[("csrf", "")])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/profiles/{id}/delete"),
        &s,
    )
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/imports#profiles");
    let (_, list) = get_json(&w.app, &staff, "/api/v1/import-profiles").await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["取込用"]);
    assert_eq!(
        page(&w.app, &s, &format!("/imports/profiles/{id}/profile.toml"))
            .await
            .0,
        404
    );

    // Nothing of this loaded any notice.
    assert!(stored(&w.app, &w.a).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 5. The import page with a profile

#[tokio::test]
async fn the_import_page_previews_a_file_through_a_profile_and_commits_it() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let (status, body) = put_profile(&w.app, &staff, "自社様式", OWN_PROFILE).await;
    assert_eq!(status, 200);
    let id = body["id"].as_i64().unwrap();
    let s = login_cookie(&w.app, &w.staff, PASSWORD).await;

    // The import page offers the profile in the upload form and lists it.
    let (status, html) = page(&w.app, &s, "/imports").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<option value=\"自社様式\">自社様式</option>"),
        "{html}"
    );
    assert!(html.contains(&format!("/imports/profiles/{id}/profile.toml")));
    assert!(html.contains(&format!("/imports/profiles/edit?id={id}&amp;part=notices")));

    // The plain form: the preview page, nothing stored yet.
    let (ct, body) = multipart(&[
        ("csrf", None, s.csrf.as_bytes()),
        ("kind", None, b"notices"),
        ("profile", None, "自社様式".as_bytes()),
        ("file", Some("own.csv"), OWN_LAYOUT.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("取り込む前の確認"), "{html}");
    assert!(html.contains("取込プロファイル「自社様式」"), "{html}");
    assert!(
        html.contains("3 件新規、0 件変更、0 件変更なし、0 行却下"),
        "{html}"
    );
    let first_commit = html
        .split("action=\"")
        .find_map(|rest| {
            let u = rest.split('"').next()?;
            u.ends_with("/commit").then(|| u.to_string())
        })
        .expect("a commit form");
    assert!(stored(&w.app, &w.a).is_empty());
    assert_eq!(batch_count(&w.app), 0);

    // The page's script: JSON preview.
    let (ct, body) = multipart(&[
        ("kind", None, b"notices"),
        ("profile", None, "自社様式".as_bytes()),
        ("file", Some("own.csv"), OWN_LAYOUT.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header("X-CSRF-Token", &s.csrf)
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["profile"], "自社様式");
    assert_eq!(p["kind"], "notices");
    assert_eq!(
        (
            p["new"].as_u64(),
            p["changed"].as_u64(),
            p["unchanged"].as_u64(),
            p["rejected"].as_u64()
        ),
        (Some(3), Some(0), Some(0), Some(0)),
        "{p}"
    );
    assert_eq!(p["rejects"], Value::Array(vec![]));
    assert!(p["message"].as_str().unwrap().starts_with("3 件新規"));
    let upload = p["upload_id"].as_i64().unwrap();
    assert!(stored(&w.app, &w.a).is_empty(), "a preview stores nothing");

    // Commit (JSON): the batch with 3 new notices, read through the profile.
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/commit"),
        &s,
    )
    .header(ACCEPT, "application/json")
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(
        (c["new"].as_u64(), c["rejected"].as_u64()),
        (Some(3), Some(0)),
        "{c}"
    );
    let batch = c["batch_id"].as_i64().unwrap();
    let (status, detail) = get_json(&w.app, &staff, &format!("/api/v1/imports/{batch}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["batch"]["new"], 3);
    assert_eq!(detail["batch"]["file_name"], "own.csv");
    assert_eq!(detail["batch"]["created_by"], w.staff.as_str());
    let rows = stored(&w.app, &w.a);
    assert_eq!(
        rows.iter()
            .map(|r| (r.0.as_str(), r.1.as_str()))
            .collect::<Vec<_>>(),
        [
            ("P-001", "acquisition"),
            ("P-002", "acquisition"),
            ("P-003", "loss")
        ]
    );
    // Committed once: the upload is gone.
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/commit"),
        &s,
    )
    .header(ACCEPT, "application/json")
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);

    // The first preview, committed after the other: nothing new, a batch of its own.
    let r = with_cookie(&w.app, Method::POST, &first_commit, &s)
        .form(&[("csrf", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let (status, html) = page(&w.app, &s, &to).await;
    assert_eq!(status, 200);
    assert!(html.contains("own.csv"));
    assert_eq!(batch_count(&w.app), 2);
    let (_, list) = get_json(&w.app, &staff, "/api/v1/imports").await;
    assert_eq!(
        (
            list["items"][0]["new"].as_i64(),
            list["items"][0]["unchanged"].as_i64()
        ),
        (Some(0), Some(3))
    );

    // Discard: the upload is dropped, nothing loaded.
    let more = format!(
        "{OWN_LAYOUT}P-004,01,E01,株式会社テスト,100,9,山田 四郎,2025/06/10,2025/06/12,有\n"
    );
    let (ct, body) = multipart(&[
        ("kind", None, b"notices"),
        (
            "profile",
            None,
            b"\xe8\x87\xaa\xe7\xa4\xbe\xe6\xa7\x98\xe5\xbc\x8f",
        ),
        ("file", Some("more.csv"), more.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header("X-CSRF-Token", &s.csrf)
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the profile by its name too");
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["new"].as_u64(), p["unchanged"].as_u64()),
        (Some(1), Some(3)),
        "{p}"
    );
    let upload = p["upload_id"].as_i64().unwrap();
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/discard"),
        &s,
    )
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/imports");
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/commit"),
        &s,
    )
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(stored(&w.app, &w.a).len(), 3);

    // An unknown profile on the page: the list page again with the message.
    let (ct, body) = multipart(&[
        ("csrf", None, s.csrf.as_bytes()),
        ("kind", None, b"notices"),
        ("profile", None, b"999999"),
        ("file", Some("own.csv"), OWN_LAYOUT.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("取込プロファイル「999999」はありません"));

    // A preview whose profile is deleted before the commit is dropped with it (see also
    // `a_preview_through_a_profile_deleted_before_its_commit_is_not_loaded_otherwise`).
    let (ct, body) = multipart(&[
        ("kind", None, b"notices"),
        ("profile", None, "自社様式".as_bytes()),
        ("file", Some("more.csv"), more.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header("X-CSRF-Token", &s.csrf)
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let upload = r.json::<Value>().await.unwrap()["upload_id"]
        .as_i64()
        .unwrap();
    let r = w
        .app
        .client
        .delete(w.app.url("/api/v1/import-profiles/自社様式"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/commit"),
        &s,
    )
    .header(ACCEPT, "application/json")
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(stored(&w.app, &w.a).len(), 3);
    assert_eq!(batch_count(&w.app), 2);

    // The page no longer offers the profile.
    let (_, html) = page(&w.app, &s, "/imports").await;
    assert!(!html.contains("自社様式"));
}

/// A file in regwatch's own headers whose kind codes only the profile maps: read without the
/// profile every row would be rejected, where the preview showed them new.
#[tokio::test]
async fn a_preview_through_a_profile_deleted_before_its_commit_is_not_loaded_otherwise() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    let (status, body) = put_profile(
        &w.app,
        &staff,
        "コードだけ",
        "[notices.values.kind]\n\"01\" = \"acquisition\"\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().unwrap().to_string();
    let s = login_cookie(&w.app, &w.staff, PASSWORD).await;
    let csv = "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日\n\
C-1,01,E01,100,1,2025-04-21,2025-04-24\n\
C-2,01,E01,100,2,2025-04-21,2025-04-24\n";
    let (ct, body) = multipart(&[
        ("kind", None, b"notices"),
        ("profile", None, "コードだけ".as_bytes()),
        ("file", Some("c.csv"), csv.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header("X-CSRF-Token", &s.csrf)
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["new"].as_u64(), p["rejected"].as_u64()),
        (Some(2), Some(0)),
        "{p}"
    );
    let upload = p["upload_id"].as_i64().unwrap();

    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/profiles/{id}/delete"),
        &s,
    )
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/commit"),
        &s,
    )
    .header(ACCEPT, "application/json")
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    let status = r.status();
    assert_eq!(status, 404, "{}", r.text().await.unwrap());
    assert!(stored(&w.app, &w.a).is_empty());
    assert_eq!(batch_count(&w.app), 0, "no batch of rejected rows either");
    assert!(audit(&w.app, &admin, "import").await.is_empty());
    let deletes = audit(&w.app, &admin, "import_profile_delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0, "コードだけ");
}

// ---------------------------------------------------------------------------------------------
// 6. e-Gov

#[tokio::test]
async fn an_egov_file_is_loaded_through_the_api_with_the_day_it_was_received() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.encode(EGOV);
    assert!(!had_errors);

    // A received date that is not a date.
    let (status, e) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?received_on=2025-13-01",
        "SHFD0006.CSV",
        &sjis,
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("received_on"),
        "{e}"
    );

    let (status, s) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?received_on=2025-04-11&dry_run=1",
        "SHFD0006.CSV",
        &sjis,
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["batch_id"].as_i64(), s["new"].as_u64()),
        (Some(0), Some(1)),
        "{s}"
    );
    assert!(stored(&w.app, &w.a).is_empty());

    // The raw body (no multipart) too.
    let r = w
        .app
        .client
        .post(
            w.app
                .url("/api/v1/imports/notices?received_on=2025-04-11&file_name=SHFD0006.CSV"),
        )
        .bearer_auth(&staff)
        .header(CONTENT_TYPE, "text/csv")
        .body(sjis.to_vec())
        .send()
        .await
        .unwrap();
    let (status, s) = status_json(r).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["new"].as_u64(), s["rejected"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    assert_eq!(s["file_name"], "SHFD0006.CSV");
    assert_eq!(
        stored(&w.app, &w.a),
        vec![(
            "EG20250410-E12345-S001-L0006".to_string(),
            "acquisition".to_string(),
            d(2025, 4, 1),
            d(2025, 4, 11),
            "missing".to_string()
        )]
    );
    {
        use regwatch::store::schema::{employers, members, notices};
        let mut c = w.app.db.conn();
        let (code, name, symbol, number): (String, Option<String>, String, String) = notices::table
            .inner_join(members::table)
            .inner_join(employers::table)
            .filter(notices::notice_id.eq("EG20250410-E12345-S001-L0006"))
            .select((
                employers::code,
                employers::name,
                members::symbol,
                members::number,
            ))
            .first(&mut c)
            .unwrap();
        assert_eq!(
            (code.as_str(), symbol.as_str(), number.as_str()),
            ("12345", "12345", "101")
        );
        assert_eq!(name.as_deref(), Some("健保サービス株式会社"));
    }

    // Loading it again (received another day) changes nothing: the 受付番号 is the file's own.
    let (status, s) = api_upload(
        &w.app,
        &staff,
        "notices",
        "?received_on=2025-04-11",
        "SHFD0006.CSV",
        &sjis,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (s["new"].as_u64(), s["unchanged"].as_u64()),
        (Some(0), Some(1)),
        "{s}"
    );
    let (_, notices) = get_json(&w.app, &staff, "/api/v1/notices?as_of=2025-04-30").await;
    assert_eq!(notices["total"], 1, "{notices}");
}
