// The import page: uploads with a progress bar and the preview as JSON (works without it too).
(function () {
  var form = document.getElementById('upload-form');
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var progress = document.getElementById('upload-progress');
  var status = document.getElementById('upload-status');
  var result = document.getElementById('upload-result');
  var button = document.getElementById('upload-submit');
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function showError(message) {
    result.replaceChildren(el('p', message, 'error'));
  }
  function token() {
    return document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  }
  function showSummary(s) {
    var box = el('div', undefined, 'card');
    box.appendChild(el('p', '取込が完了しました：' + s.message, 'rw-ok'));
    box.appendChild(rejectList(s));
    var a = el('a', '取込結果の詳細を見る');
    a.href = '/imports/' + s.batch_id;
    box.appendChild(a);
    result.replaceChildren(box);
  }
  function rejectList(p) {
    var frag = document.createDocumentFragment();
    if (p.rejects && p.rejects.length) {
      frag.appendChild(el('p', '取り込めない行（先頭 ' + p.rejects.length + ' 件）', 'rw-bad'));
      var ul = el('ul');
      p.rejects.forEach(function (r) { ul.appendChild(el('li', r.line + ' 行目：' + r.reason)); });
      frag.appendChild(ul);
    }
    return frag;
  }
  function post(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('X-CSRF-Token', token());
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.addEventListener('load', function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      done(xhr.status, body);
    });
    xhr.addEventListener('error', function () { done(0, null); });
    xhr.send('csrf=' + encodeURIComponent(token()));
  }
  function showPreview(p) {
    var box = el('div', undefined, 'card');
    box.id = 'upload-preview';
    box.appendChild(el('h3', '取り込む前の確認：' + p.file_name + '（' + p.kind_label + (p.profile ? '、プロファイル「' + p.profile + '」' : '') + '）'));
    box.appendChild(el('p', 'このファイルを取り込むと：' + p.message));
    if (p.without_notice) {
      box.appendChild(el('p', 'うち ' + p.without_notice + ' 件は届書が未取込です（届書の取込時に反映されます）', 'muted'));
    }
    box.appendChild(rejectList(p));
    var go = el('button', '取り込む');
    go.id = 'upload-commit';
    var cancel = el('button', '取りやめる', 'secondary');
    cancel.id = 'upload-discard';
    go.addEventListener('click', function () {
      go.disabled = true; cancel.disabled = true;
      status.textContent = '取り込んでいます。このままお待ちください…';
      post('/imports/uploads/' + p.upload_id + '/commit', function (code, body) {
        status.textContent = '';
        if (code === 200 && body) { showSummary(body); }
        else if (body && body.error) { showError(body.error.message); }
        else { showError('取込に失敗しました（HTTP ' + code + '）'); }
      });
    });
    cancel.addEventListener('click', function () {
      post('/imports/uploads/' + p.upload_id + '/discard', function () {
        result.replaceChildren(el('p', '取込を取りやめました。', 'muted'));
      });
    });
    var actions = el('p');
    actions.appendChild(go);
    actions.appendChild(document.createTextNode(' '));
    actions.appendChild(cancel);
    box.appendChild(actions);
    result.replaceChildren(box);
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.getAttribute('action'));
    xhr.setRequestHeader('X-CSRF-Token', token());
    xhr.setRequestHeader('Accept', 'application/json');
    progress.hidden = false;
    progress.value = 0;
    button.disabled = true;
    result.replaceChildren();
    status.textContent = 'アップロード中…';
    xhr.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable) {
        var pct = Math.floor(e.loaded / e.total * 100);
        progress.value = pct;
        status.textContent = 'アップロード中… ' + pct + '%';
      }
    });
    xhr.upload.addEventListener('load', function () {
      progress.removeAttribute('value');
      status.textContent = 'サーバーで内容を確認しています。このままお待ちください…';
    });
    xhr.addEventListener('load', function () {
      button.disabled = false;
      progress.hidden = true;
      status.textContent = '';
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 200 && body) {
        showPreview(body);
      } else if (body && body.error) {
        showError(body.error.message);
      } else if (xhr.status === 401) {
        showError('ログインの有効期限が切れました。もう一度ログインしてください。');
      } else {
        showError('取込に失敗しました（HTTP ' + xhr.status + '）');
      }
    });
    xhr.addEventListener('error', function () {
      button.disabled = false;
      progress.hidden = true;
      status.textContent = '';
      showError('通信エラーのためアップロードできませんでした。ネットワークを確認してもう一度お試しください。');
    });
    xhr.send(new FormData(form));
  });
})();
