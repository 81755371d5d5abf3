//! diesel table definitions shared by both backends (migrations/sqlite and migrations/postgres).
diesel::table! {
    insurers (id) {
        id -> BigInt,
        number -> Text,
        name -> Text,
        kind -> Text,
        rules_toml -> Text,
        address -> Nullable<Text>,
        contact -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        data_version -> BigInt,
        seal_text -> Nullable<Text>,
        issuer_word -> Nullable<Text>,
        representative -> Nullable<Text>,
        date_style -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        email -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        display_name -> Text,
        deactivated_at -> Nullable<Timestamp>,
        must_change_password -> Bool,
    }
}

diesel::table! {
    employers (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        code -> Text,
        name -> Nullable<Text>,
        contact_emails -> Text,
        opt_out -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        late_with_numbers_since -> Nullable<Date>,
        late_with_numbers_by -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    members (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        employer_id -> Nullable<BigInt>,
        symbol -> Text,
        number -> Text,
        dependent_seq -> Text,
        member_key -> Text,
        name -> Nullable<Text>,
        name_kana -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        birth_date -> Nullable<Date>,
        postal_code -> Nullable<Text>,
        address -> Nullable<Text>,
        search_name -> Nullable<Text>,
        search_kana -> Nullable<Text>,
    }
}

diesel::table! {
    import_batches (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        file_kind -> Text,
        file_name -> Text,
        sha256 -> Text,
        status -> Text,
        rows_read -> BigInt,
        rows_accepted -> BigInt,
        rows_rejected -> BigInt,
        rows_new -> BigInt,
        rows_changed -> BigInt,
        rows_unchanged -> BigInt,
        error -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_by_label -> Text,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_rejects (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        batch_id -> BigInt,
        line -> BigInt,
        reason -> Text,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        notice_id -> Text,
        kind -> Text,
        employer_id -> BigInt,
        member_id -> BigInt,
        event_date -> Date,
        received_on -> Date,
        my_number_status -> Text,
        delay_cause -> Nullable<Text>,
        content_hash -> BigInt,
        registered_at -> Nullable<Timestamp>,
        registered_on -> Nullable<Date>,
        submission_deadline -> Date,
        registration_deadline -> Date,
        registration_rule -> Text,
        batch_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        line -> Nullable<BigInt>,
    }
}

diesel::table! {
    error_causes (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        error_code -> Text,
        cause -> Text,
        updated_by_label -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    import_profiles (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        name -> Text,
        profile_toml -> Text,
        updated_by_label -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    import_uploads (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        file_kind -> Text,
        file_name -> Text,
        profile_id -> Nullable<BigInt>,
        received_on -> Nullable<Date>,
        content -> Binary,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    registration_results (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        notice_id -> Text,
        result -> Text,
        registered_at -> Nullable<Timestamp>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        batch_id -> Nullable<BigInt>,
        line -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        insurer_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        insurer_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    app_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        notice_id -> BigInt,
        issued_on -> Date,
        valid_until -> Date,
        issued_by -> Nullable<BigInt>,
        issued_by_label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    letters (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        notice_id -> BigInt,
        kind -> Text,
        variant -> Text,
        template_version -> Text,
        format -> Text,
        letter_date -> Date,
        certificate_id -> Nullable<BigInt>,
        run_id -> Text,
        created_by -> Nullable<BigInt>,
        created_by_label -> Text,
        created_at -> Timestamp,
        html -> Nullable<Text>,
        sent_on -> Nullable<Date>,
        sent_by_label -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        employer_id -> BigInt,
        kind -> Text,
        dedupe_key -> Text,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        as_of -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        sender_name -> Nullable<Text>,
        from_address -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        bounce_address -> Nullable<Text>,
    }
}

diesel::table! {
    mail_settings (insurer_id) {
        insurer_id -> BigInt,
        sender_name -> Nullable<Text>,
        from_address -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        bounce_address -> Nullable<Text>,
        reminders_enabled -> Bool,
        digest_weekday -> Integer,
        schedule_hour -> Nullable<Integer>,
        last_evaluated_on -> Nullable<Date>,
        updated_by_label -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox_notices (id) {
        id -> BigInt,
        outbox_id -> BigInt,
        insurer_id -> BigInt,
        employer_id -> BigInt,
        kind -> Text,
        notice_id -> BigInt,
        certificate_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    checklist_answers (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        item_id -> Text,
        answer -> Text,
        note -> Text,
        updated_by_label -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_actions (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        title -> Text,
        checklist_item -> Nullable<Text>,
        owner -> Text,
        start_on -> Nullable<Date>,
        due_on -> Nullable<Date>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_reviews (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        action_id -> BigInt,
        reviewed_on -> Date,
        progress -> Nullable<Integer>,
        note -> Text,
        created_by_label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    survey_answers (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        question_id -> Text,
        choice -> Text,
        days -> Nullable<Integer>,
        note -> Text,
        updated_by_label -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    survey_submissions (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        period_from -> Date,
        period_to -> Date,
        answers_json -> Text,
        submitted_by_label -> Text,
        created_at -> Timestamp,
        evidence_json -> Nullable<Text>,
    }
}

diesel::table! {
    staffing (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        period_kind -> Text,
        starts_on -> Date,
        staff -> Double,
        note -> Text,
        updated_by_label -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> insurers (insurer_id));
diesel::joinable!(employers -> insurers (insurer_id));
diesel::joinable!(notices -> employers (employer_id));
diesel::joinable!(notices -> members (member_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(import_rejects -> import_batches (batch_id));
diesel::joinable!(certificates -> notices (notice_id));
diesel::joinable!(letters -> notices (notice_id));
diesel::joinable!(outbox -> employers (employer_id));
diesel::joinable!(outbox_notices -> outbox (outbox_id));
diesel::joinable!(plan_reviews -> plan_actions (action_id));
diesel::joinable!(mail_settings -> insurers (insurer_id));

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        blocked_until -> Nullable<Timestamp>,
        last_failure_at -> Timestamp,
    }
}

diesel::table! {
    case_workflow (notice_id) {
        notice_id -> BigInt,
        insurer_id -> BigInt,
        assignee_user_id -> Nullable<BigInt>,
        follow_up_on -> Nullable<Date>,
        updated_by_label -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    case_notes (id) {
        id -> BigInt,
        insurer_id -> BigInt,
        notice_id -> BigInt,
        author_user_id -> Nullable<BigInt>,
        author_label -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(case_workflow -> notices (notice_id));
diesel::joinable!(case_notes -> notices (notice_id));

diesel::table! {
    report_rollups (insurer_id, day) {
        insurer_id -> BigInt,
        day -> Date,
        generation -> BigInt,
        version -> Integer,
        max_registered_on -> Nullable<Date>,
        dashboard -> Nullable<Text>,
        analysis -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    insurers,
    users,
    employers,
    members,
    import_batches,
    import_rejects,
    notices,
    registration_results,
    audit_log,
    sessions,
    app_secrets,
    certificates,
    letters,
    outbox,
    outbox_notices,
    mail_settings,
    checklist_answers,
    plan_actions,
    plan_reviews,
    survey_answers,
    survey_submissions,
    staffing,
    import_profiles,
    import_uploads,
    error_causes,
    case_workflow,
    case_notes,
    report_rollups,
);
