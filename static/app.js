// Behaviour shared by every page (loaded by base.html; the Content-Security-Policy allows no
// inline scripts): a form with data-confirm asks before it is sent.
document.addEventListener('submit', function (e) {
  var form = e.target;
  var question = form && form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});
