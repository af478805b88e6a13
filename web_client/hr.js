/* Candor HR pages: sign in, the workspace (jobs, a job's pipeline board, a
 * candidate's page), session list (/hr/sessions), new session link, live view of one
 * session (/hr/sessions/<id>) over the event WebSocket with resume by seq.
 *
 * The page's controller, Candor.hr: the strings, the page's state (hr.ui),
 * t(), the banner, the API call, which view shows, and boot. Each view is a
 * file of its own, loaded after this one (hr.html):
 *
 *   hr/signin.js     Candor.hr.signin     sign in, sign out
 *   hr/sessions.js   Candor.hr.sessions   the session list and the new-session form
 *   hr/live.js       Candor.hr.live       one session live: event stream, transcript, face, consent, log
 *   hr/interview.js  Candor.hr.interview  the live view's structured interview: progress, answers, scores
 *   hr/recordings.js Candor.hr.recordings the answers' recordings: a player per answer, ▶ on each evidence quote
 *   hr/pipeline.js   Candor.hr.pipeline   the workspace's pure helpers: board columns, evidence spans, upload results
 *   hr/jobs.js       Candor.hr.jobs       the jobs with their applications counted (/hr)
 *   hr/board.js      Candor.hr.board      a job's pipeline board: columns, search, bulk actions, uploads (/hr/jobs/<id>)
 *   hr/application.js Candor.hr.application a candidate: match table, resume with evidence, report, timeline, steps
 *   hr/dashboard.js  Candor.hr.dashboard  the recruiting dashboard: funnel, scores, sources, stages, invites, validity (/hr/dashboard)
 *   hr/audit.js      Candor.hr.audit      the auditor's view: the audit trail (filters, pages, CSV, verify) and the bias audit (/hr/audit)
 *
 * Boots once the document has loaded, after every view's script has run.
 * Plain ES2017 (no modules, no optional chaining), no framework. Data is
 * only ever put into the page as text.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr = Candor.hr || {};
  var http = Candor.http;
  var $ = Candor.dom.$;

  var STRINGS = {
    zh: {
      lang_toggle: 'English',
      nav_jobs: '岗位',
      nav_sessions: '面试会话',
      nav_dashboard: '招聘看板',
      dash_title: '招聘看板',
      dash_job: '岗位',
      dash_all_jobs: '全部岗位',
      dash_from: '从',
      dash_to: '到',
      dash_apply: '查看',
      dash_rule: '不足5人的组不显示人数（显示为 <5）。',
      dash_total: '申请 {n} 份',
      dash_csv: '下载 CSV',
      dash_funnel: '招聘漏斗',
      dash_pass_rate: '面试通过率：{rate}（已面试并已决定 {decided} 人，其中推进 {advanced} 人）',
      dash_stage_applied: '已申请',
      dash_stage_screened: '已筛选',
      dash_stage_invited: '已邀约',
      dash_stage_interviewing: '面试中',
      dash_stage_interviewed: '已面试',
      dash_stage_advanced: '已推进',
      dash_col_stage: '阶段',
      dash_col_n: '人数',
      dash_col_conversion: '转化率',
      dash_col_dropoff: '流失率',
      dash_col_dropped: '流失人数',
      dash_scores: '分数分布',
      dash_match: '简历匹配分',
      dash_interview: '面试分',
      dash_questions: '各题分数（P10–P90）',
      dash_none: '暂无数据。',
      dash_sources: '渠道效果',
      dash_no_source: '（未注明）',
      dash_col_source: '渠道',
      dash_col_applications: '申请',
      dash_col_interviewed: '已面试',
      dash_col_pass: '通过率',
      dash_col_match: '平均匹配分',
      dash_col_interview: '平均面试分',
      dash_col_advanced: '推进',
      dash_col_cost: '费用',
      dash_col_cph: '每推进一人费用',
      dash_stages: '各阶段停留时间',
      dash_invites: '邀约',
      dash_col_rate: '比例',
      dash_inv_invited: '已邀约',
      dash_inv_opened: '打开链接',
      dash_inv_started: '开始面试',
      dash_inv_completed: '完成面试',
      dash_validity: '分数能否预测后续表现',
      dash_validity_note: 'Spearman 秩相关系数（ρ）及其 95% 置信区间；样本少时区间很宽，请谨慎解读。',
      dash_col_job: '岗位',
      dash_col_score: '分数',
      dash_col_outcome: '后续结果',
      dash_col_ci: '95% 置信区间',
      dash_score_match_score: '简历匹配分',
      dash_score_interview_score: '面试分',
      dash_outcome_onsite: '现场面试结果',
      dash_outcome_probation_rating: '试用期评级',
      dash_outcome_performance_12m: '12个月绩效',
      dash_needs_5: '需要至少5人',
      dash_no_spread: '数值无差异',
      dash_cost_title: '录入渠道费用',
      dash_cost_source: '渠道',
      dash_cost_amount: '金额',
      dash_cost_currency: '币种',
      dash_cost_save: '保存费用',
      dash_cost_scope_all: '计入：全部岗位（在上方选择岗位，可按岗位录入）',
      dash_cost_scope_job: '计入：{job}',
      dash_cost_saved: '已保存：{source} {cost}（{scope}）',
      dash_cost_none: '还没有可录入费用的渠道。',
      dash_cost_refused: '未保存：{detail}',
      cost_err_source: '请选择渠道',
      cost_err_amount: '请输入金额',
      cost_err_amount_bad: '金额须为不小于 0 的数字，例如 6000 或 6,000.50',
      cost_err_currency: '币种须为 3 个大写字母的代码，例如 CNY',
      oc_title: '后续结果',
      oc_hint_undecided: '这份申请还没有决定。后续结果通常在推进后记录；如有需要，仍可在此记录。',
      oc_onsite: '现场面试结果',
      oc_onsite_pass: '通过',
      oc_onsite_fail: '未通过',
      oc_not_yet: '尚无结果',
      oc_probation: '试用期评级（1–5）',
      oc_performance: '12个月绩效',
      oc_performance_ph: '按本行绩效标准填写数字',
      oc_save: '保存后续结果',
      oc_saving: '正在保存…',
      oc_never: '尚未记录。',
      oc_recorded: '由 {by} 记录于 {at}',
      oc_saved: '已保存。',
      oc_refused: '未保存：{detail}',
      oc_err_performance: '12个月绩效须为数字，例如 3.5；没有结果请留空',
      oc_err_probation: '试用期评级须为 1 到 5',
      oc_err_onsite: '现场面试结果须为通过或未通过',
      jobs_title: '岗位',
      job_col_title: '岗位',
      job_col_total: '申请',
      no_jobs: '还没有岗位。',
      open_board: '打开看板',
      back_jobs: '← 全部岗位',
      back_board: '← 看板',
      search_placeholder: '完整姓名或编号',
      sort_score: '按匹配分',
      sort_newest: '按时间（新到旧）',
      col_applied: '待筛选',
      col_advance: '建议邀约',
      col_review: '待复核',
      col_pool: '待确认淘汰池',
      col_invited: '已邀约',
      col_interviewing: '面试中',
      col_interviewed: '已面试',
      col_decided: '已决定',
      col_withdrawn: '已撤回',
      col_empty: '暂无',
      col_shown: '显示 {shown} / {total}',
      col_more: '另有 {n} 份未显示',
      pool_confirm_all: '确认淘汰池（{n}）',
      pool_confirm_selected: '确认所选淘汰（{n}）',
      card_match: '匹配',
      card_interview: '面试',
      card_dups: '重复投递 {n}',
      select_card: '选择 {name}',
      drop_title: '拖放简历到这里上传',
      drop_hint: 'PDF、DOCX 或 TXT，每份不超过 10 MB；可一次多份，或一个装满简历的 ZIP。',
      drop_here: '松开即可上传',
      upload_source: '来源',
      upload_pick: '选择文件',
      upload_progress: '正在上传 {done} / {total}',
      upload_done: '已完成 {total} 份：{ok} 份新申请，{dup} 份重复，{err} 份失败',
      upload_ok: '已评分：匹配 {score}（{outcome}）',
      upload_ok_plain: '已评分：见看板',
      upload_dup: '重复：此人已申请该岗位，已合并到原申请',
      upload_err: '未读取：{detail}',
      src_upload: '手动上传',
      src_referral: '内推',
      src_campus: '校园招聘',
      src_liepin: '猎聘',
      src_boss: 'BOSS 直聘',
      src_zhaopin: '智联招聘',
      bulk_selected: '已选 {n} 人',
      bulk_invite: '邀约面试',
      bulk_confirm_pool: '确认淘汰',
      bulk_withdraw: '撤回',
      bulk_clear: '取消选择',
      bulk_done: '{ok} 人成功，{fail} 人未成功',
      bulk_fail_one: '{name}：{detail}',
      out_advance: '建议邀约',
      out_review: '待复核',
      out_pool: '淘汰池',
      out_hold: '待定',
      out_reject: '不合适',
      st_applied: '待筛选',
      st_screened: '已筛选',
      st_invited: '已邀约',
      st_interviewing: '面试中',
      st_interviewed: '已面试',
      st_decided: '已决定',
      st_withdrawn: '已撤回',
      invite: '邀约面试',
      confirm_pool: '确认淘汰',
      withdraw: '撤回',
      invite_link_title: '候选人面试链接',
      invite_link_hint: '请把此链接发给候选人。链接只能打开一次。',
      match_title: '岗位匹配',
      match_hint: '点击一行，在简历中高亮它的依据。匹配分仅供参考，由招聘人员决定。',
      match_total: '匹配分 {score}（邀约线 {advance}，淘汰池线 {pool}）',
      m_col_req: '要求',
      m_col_shows: '简历显示',
      m_col_status: '结果',
      m_col_points: '得分',
      m_col_evidence: '依据',
      m_evidence_n: '{n} 处',
      m_met: '符合',
      m_partly: '部分符合',
      m_not_met: '不符合',
      kind_education: '学历',
      kind_years: '工作年限',
      kind_skill: '技能',
      kind_certificate: '证书',
      kind_language: '语言',
      years_n: '{n} 年以上',
      years_have: '{n} 年',
      how_vocab: '与技能词表一致',
      how_vocab_part: '技能词表 {n}/{of} 项一致',
      how_words: '字面相符 {x}',
      how_meaning: '语义相近 {x}',
      how_cert: '同一证书',
      tl_screened: '岗位匹配 {score} 分',
      edu_none: '无',
      edu_associate: '大专',
      edu_bachelor: '本科',
      edu_master: '硕士',
      edu_doctorate: '博士',
      lang_zh: '中文',
      lang_en: '英语',
      lang_yue: '粤语',
      upload_err_code: '未读取：{what}',
      code_empty: '文件是空的',
      code_too_large: '文件超过 10 MB',
      code_unsupported_type: '不支持的文件类型（请上传 PDF、DOCX 或 TXT）',
      code_corrupt: '文件已损坏，无法读取，请重新导出后再传',
      code_encrypted: '文件有密码保护，请去掉密码后再传',
      resume_title: '简历',
      resume_review: '需要人工核对：{fields}',
      resume_empty: '没有简历文本。',
      pf_name: '姓名',
      pf_education: '学历',
      pf_years: '工作年限',
      pf_skills: '技能',
      pf_certificates: '证书',
      pf_languages: '语言',
      pf_experience: '工作经历',
      report_title: '面试报告',
      report_overall: '面试得分',
      report_band: '建议',
      report_open: '打开完整报告',
      decide_title: '决定',
      dec_advance: '进入下一轮',
      dec_hold: '待定',
      dec_reject: '不合适',
      reason_placeholder: '理由（可选）',
      decide: '记录决定',
      timeline_title: '时间线',
      dups_title: '重复投递',
      dups_hint: '同一手机号或邮箱再次投递本岗位：算作同一份申请，以下为再次投递的记录。',
      dup_line: '{at} · 来源 {source}{file}',
      act_receive: '收到申请',
      act_screen: '自动筛选',
      act_invite: '邀约面试',
      act_start_interview: '开始面试',
      act_end_interview: '面试结束',
      act_confirm_pool: '确认淘汰',
      act_decide: '决定',
      act_withdraw: '撤回',
      act_open: '候选人打开邀约',
      auto_title: '自动化规则',
      auto_hint: '规则：某事发生后（on），可等一段时间（after），满足条件时（if），自动执行（do）。写法见 docs/automation.md。',
      auto_edit: '编辑（YAML）',
      auto_save: '保存规则',
      auto_turn_on: '启用这些规则',
      auto_turn_off: '停用规则',
      auto_on: '已启用 · {n} 条',
      auto_off: '未启用 · {n} 条',
      auto_saved: '已保存为第 {v} 版',
      auto_refused: '未保存：{detail}',
      preview_title: '消息模板预览',
      preview_run: '预览',
      rule_after: '{after} 后',
      rule_if: '如果 {cond}',
      aev_received: '收到申请',
      aev_screened: '筛选完成',
      aev_invited: '已邀约',
      aev_opened: '候选人打开链接',
      aev_interview_started: '面试开始',
      aev_interview_ended: '面试结束',
      aev_decided: '有了决定',
      aev_withdrawn: '撤回',
      actions_title: '自动化动作',
      actions_empty: '本岗位的规则还没有为这份申请做任何事。',
      action_rule: '规则 {rule} · {due}',
      action_retry: '重试',
      action_cancel: '取消',
      astate_scheduled: '待执行',
      astate_done: '已完成',
      astate_skipped: '未执行（条件不满足）',
      astate_failed: '失败',
      astate_cancelled: '已取消',
      delivery_line: '{sink}：{state}，尝试 {n} 次，最后一次 {last}',
      dstate_pending: '发送中',
      dstate_delivered: '已送达',
      dstate_failed: '被拒收',
      dstate_dead: '放弃发送',
      delivery_replay: '重新发送',
      aact_invite: '自动邀约',
      aact_remind: '提醒',
      aact_notify_candidate: '告知候选人',
      aact_notify_hr: '通知HR',
      aact_sync: '同步结果',
      ch_email: '邮件',
      ch_sms: '短信',
      ch_wecom: '企业微信应用消息',
      ch_wecom_external: '企业微信（客户联系）',
      ch_wecom_robot: '企业微信群（{group}）',
      ch_successfactors: 'SuccessFactors',
      ch_hris: 'HR系统',
      by_rule: '规则 {rule}',
      note_failed: '未完成',
      act_message_out: '发出消息',
      act_message_in: '收到消息',
      act_automation: '自动规则',
      act_sync: '同步至HR系统',
      actor_system: '系统',
      actor_hr: 'HR',
      actor_candidate: '候选人',
      action_failed: '操作未成功：{detail}',
      logout: '退出登录',
      signin_title: 'HR 登录',
      token_label: 'HR 令牌',
      signin: '登录',
      signin_bad: '令牌不正确。',
      signin_failed: '登录失败：{detail}',
      sessions_title: '面试会话',
      refresh: '刷新',
      new_session: '新建会话',
      new_link_title: '候选人链接',
      new_link_hint: '请把此链接发给候选人。链接只能打开一次，关闭此提示后将不再显示。',
      copy: '复制',
      copied: '已复制到剪贴板。',
      copy_failed: '无法自动复制，请手动选择并复制链接。',
      watch_live: '查看实时画面',
      dismiss: '关闭',
      col_id: '会话',
      col_created: '创建时间',
      col_expires: '过期时间',
      col_state: '状态',
      col_connected: '连接',
      connected_yes: '在线',
      connected_no: '离线',
      watch: '查看',
      no_sessions: '还没有会话。',
      back: '← 全部会话',
      session: '会话',
      transcript_title: '实时转写',
      transcript_empty: '候选人说话后，转写文字会显示在这里。',
      speaking: '● 正在说话',
      face_title: '面部指标',
      face_presence: '在画面中',
      face_faces: '人脸数（最多/平均）',
      face_yaw: '偏航 yaw',
      face_pitch: '俯仰 pitch',
      face_roll: '翻滚 roll',
      face_gaze: '注视镜头',
      face_time: '媒体时间',
      flag_absent: '画面中无人',
      flag_multiple: '画面中多人',
      yes: '是',
      no: '否',
      events_title: '事件',
      ws_connecting: '连接中…',
      ws_open: '实时',
      ws_reconnecting: '重连中…',
      ws_signed_out: '未登录',
      ev_connection_started: '候选人已连接',
      ev_media_flowing: '已收到音视频',
      ev_connection_ended: '候选人连接结束（{reason}）',
      ev_face_absent_start: '画面中无人',
      ev_face_absent_stop: '候选人回到画面',
      ev_face_multiple_start: '画面中出现多张人脸（{faces}）',
      ev_face_multiple_stop: '画面中恢复为一张人脸',
      ev_session_error: '会话错误：{message}',
      ev_candidate_message: '候选人留言（企业微信）：{text}',
      wecom_quota: '企业微信：本月已发 {sent}/{limit} 条',
      wecom_quota_hint: '企业微信每个自然月向同一客户群发的消息有上限，且需发送成员在客户端确认',
      ev_media_dropped: '丢弃媒体：{kind} × {count}',
      ev_session_created: '会话已创建',
      ev_ws_resumed: '事件流已重新连接（从 #{seq} 继续）',
      err_network: '网络错误：{detail}',
      err_http: '请求失败：{detail}',
      err_no_session: '会话列表中没有 {id}：链接可能有误，或会话已被删除。',
      progress_title: '面试进度',
      p_practice: '练习题（不计分）',
      p_practice_short: '练习',
      p_number: '第 {n} / {m} 题',
      p_number_short: '第 {n} 题',
      p_pre: '开始答题前',
      p_phase_waiting: '未开始',
      p_phase_prep: '准备中',
      p_phase_answer: '回答中',
      p_phase_paused: '已暂停（候选人断线）',
      p_phase_ended: '已结束',
      p_clock_prep: '准备剩余',
      p_clock_answer: '回答剩余',
      p_not_asked: '未开始',
      p_state_running: '进行中',
      p_state_ended: '面试已结束',
      p_between: '等待下一题…',
      p_answer_range: '回答 {start}–{end}',
      p_outside: '不在回答时间内',
      reason_candidate_done: '候选人完成',
      reason_time_limit: '时间到',
      reason_long_silence: '长时间沉默',
      reason_no_answer: '未作答',
      ev_question_started: '开始 {label}：{text}',
      ev_question_resumed: '继续 {label}（候选人重新连接）',
      ev_answer_started: '{label} 开始回答',
      ev_answer_resumed: '{label} 继续回答',
      ev_answer_ended: '{label} 回答结束（{reason}）',
      ev_question_ended: '{label} 结束',
      ev_interview_ended: '面试结束',
      ev_score: '{label} 评分：{overall}',
      ev_score_provisional: '{label} 暂定评分：{overall}',
      score_title: 'AI 评分',
      score_provisional: '暂定',
      score_final: '最终',
      score_overall: '综合',
      score_content: '内容',
      score_delivery: '表达',
      score_engagement: '投入度',
      score_note: 'AI 评分仅供参考，录用决定由招聘人员做出。',
      rec_title: '回答录音',
      c_recording: '回答录音保存',
      c_recording_no: '未同意（不保存）',
      rec_play_quote: '从这句话开始播放录音',
      score_points: '要点 {id}：{score}',
      ns_title: '新建面试会话',
      ns_job: '岗位',
      ns_free_talk: '自由交谈（无题目）',
      ns_candidate: '候选人信息',
      ns_candidate_hint: '选择岗位时必须填写姓名；其他信息可选，用于与岗位要求比对。',
      ns_name: '姓名',
      ns_education: '学历',
      ns_edu_unset: '（不填）',
      ns_edu_none: '无',
      ns_edu_associate: '大专',
      ns_edu_bachelor: '本科',
      ns_edu_master: '硕士',
      ns_edu_doctorate: '博士',
      ns_years: '工作年限',
      ns_skills: '技能（逗号分隔）',
      ns_certificates: '证书（逗号分隔）',
      ns_languages: '语言（逗号分隔，如 zh, en）',
      ns_accommodation: '需要便利安排（仅按回答内容评分）',
      ns_submit: '创建链接',
      ns_err_name: '选择岗位时必须填写候选人姓名。',
      ns_err_name_profile: '填写候选人信息时必须填写姓名。',
      ns_err_check: '请检查标出的字段。',
      ns_jobs_failed: '无法加载岗位列表：{detail}',
      cancel: '取消',
      consent_title: '政策与同意',
      c_policy: '政策',
      c_voice: '声音处理',
      c_face: '面部处理',
      c_emotion: '情绪识别',
      c_given: '同意时间',
      policy_pipl: 'PIPL（中国，分项同意）',
      policy_eu: '欧盟（不做情绪识别）',
      c_yes: '已同意',
      c_no: '未同意',
      c_pending: '尚未同意',
      c_withdrawn: '已撤回',
      c_face_audio: '未同意（仅音频）',
      c_emotion_on: '开启（仅作参考）',
      c_emotion_off: '关闭',
      ev_consent_given: '候选人已同意（声音：{voice}，面部：{face}，情绪识别：{emotion}）',
      ev_consent_withdrawn: '候选人撤回了同意，分析已停止',
      m_expression: '面部表情（参考）',
      m_arousal: '语气唤醒度（参考）',
      expr_angry: '生气',
      expr_disgust: '厌恶',
      expr_fear: '害怕',
      expr_happy: '高兴',
      expr_sad: '难过',
      expr_surprise: '惊讶',
      expr_neutral: '平静',
      affect_expression: '面部表情：{label} {share}',
      affect_voice: '语气唤醒度均值：{arousal}（{n} 段）',
      affect_context: '参考，不计分',
      affect_counted: '计入评分：{score}'
    },
    en: {
      lang_toggle: '中文',
      nav_jobs: 'Jobs',
      nav_sessions: 'Sessions',
      nav_dashboard: 'Dashboard',
      dash_title: 'Recruiting dashboard',
      dash_job: 'Job',
      dash_all_jobs: 'All jobs',
      dash_from: 'From',
      dash_to: 'To',
      dash_apply: 'Show',
      dash_rule: 'Groups of fewer than 5 people are not shown (shown as <5).',
      dash_total: '{n} applications',
      dash_csv: 'Download CSV',
      dash_funnel: 'Funnel',
      dash_pass_rate: 'Interview pass rate: {rate} ({decided} interviewed and decided, {advanced} advanced)',
      dash_stage_applied: 'Applied',
      dash_stage_screened: 'Screened',
      dash_stage_invited: 'Invited',
      dash_stage_interviewing: 'Interviewing',
      dash_stage_interviewed: 'Interviewed',
      dash_stage_advanced: 'Advanced',
      dash_col_stage: 'Stage',
      dash_col_n: 'People',
      dash_col_conversion: 'Conversion',
      dash_col_dropoff: 'Drop-off',
      dash_col_dropped: 'Dropped',
      dash_scores: 'Score distributions',
      dash_match: 'Resume match score',
      dash_interview: 'Interview score',
      dash_questions: 'Scores per question (P10–P90)',
      dash_none: 'No data yet.',
      dash_sources: 'Sources',
      dash_no_source: '(not given)',
      dash_col_source: 'Source',
      dash_col_applications: 'Applications',
      dash_col_interviewed: 'Interviewed',
      dash_col_pass: 'Pass rate',
      dash_col_match: 'Mean match',
      dash_col_interview: 'Mean interview',
      dash_col_advanced: 'Advanced',
      dash_col_cost: 'Cost',
      dash_col_cph: 'Cost per advanced',
      dash_stages: 'Time in each stage',
      dash_invites: 'Invites',
      dash_col_rate: 'Rate',
      dash_inv_invited: 'Invited',
      dash_inv_opened: 'Opened the link',
      dash_inv_started: 'Started',
      dash_inv_completed: 'Completed',
      dash_validity: 'Do the scores predict later outcomes?',
      dash_validity_note: "Spearman's rank correlation (ρ) with its 95% confidence interval; with few people the interval is wide: read it with care.",
      dash_col_job: 'Job',
      dash_col_score: 'Score',
      dash_col_outcome: 'Later outcome',
      dash_col_ci: '95% CI',
      dash_score_match_score: 'Resume match',
      dash_score_interview_score: 'Interview',
      dash_outcome_onsite: 'On-site result',
      dash_outcome_probation_rating: 'Probation rating',
      dash_outcome_performance_12m: '12-month performance',
      dash_needs_5: 'Needs at least 5 people',
      dash_no_spread: 'No spread',
      dash_cost_title: 'Enter a source cost',
      dash_cost_source: 'Source',
      dash_cost_amount: 'Amount',
      dash_cost_currency: 'Currency',
      dash_cost_save: 'Save cost',
      dash_cost_scope_all: 'For: all jobs (pick a job above to enter a cost for one job)',
      dash_cost_scope_job: 'For: {job}',
      dash_cost_saved: 'Saved: {source} {cost} ({scope})',
      dash_cost_none: 'No source to enter a cost for yet.',
      dash_cost_refused: 'Not saved: {detail}',
      cost_err_source: 'Pick a source',
      cost_err_amount: 'Enter an amount',
      cost_err_amount_bad: 'The amount must be a number, 0 or more, such as 6000 or 6,000.50',
      cost_err_currency: 'The currency must be a 3-letter code, such as CNY',
      oc_title: 'Later outcomes',
      oc_hint_undecided: 'This application is not decided yet. Outcomes are usually recorded after advancing; you can still record one here.',
      oc_onsite: 'On-site interview',
      oc_onsite_pass: 'Passed',
      oc_onsite_fail: 'Failed',
      oc_not_yet: 'Not yet',
      oc_probation: 'Probation rating (1–5)',
      oc_performance: '12-month performance',
      oc_performance_ph: "A number on the bank's own scale",
      oc_save: 'Save outcomes',
      oc_saving: 'Saving…',
      oc_never: 'Nothing recorded yet.',
      oc_recorded: 'Recorded by {by} at {at}',
      oc_saved: 'Saved.',
      oc_refused: 'Not saved: {detail}',
      oc_err_performance: '12-month performance must be a number, such as 3.5; leave it empty if there is none',
      oc_err_probation: 'The probation rating must be 1 to 5',
      oc_err_onsite: 'The on-site result must be passed or failed',
      jobs_title: 'Jobs',
      job_col_title: 'Job',
      job_col_total: 'Applications',
      no_jobs: 'No jobs yet.',
      open_board: 'Open board',
      back_jobs: '← All jobs',
      back_board: '← Board',
      search_placeholder: 'A full name or an id',
      sort_score: 'By match score',
      sort_newest: 'Newest first',
      col_applied: 'To screen',
      col_advance: 'Advance',
      col_review: 'Review',
      col_pool: 'Pool (to confirm)',
      col_invited: 'Invited',
      col_interviewing: 'Interviewing',
      col_interviewed: 'Interviewed',
      col_decided: 'Decided',
      col_withdrawn: 'Withdrawn',
      col_empty: 'none',
      col_shown: '{shown} of {total} shown',
      col_more: '{n} more not shown',
      pool_confirm_all: 'Confirm pool ({n})',
      pool_confirm_selected: 'Confirm selected ({n})',
      card_match: 'match',
      card_interview: 'interview',
      card_dups: '{n} duplicate(s)',
      select_card: 'Select {name}',
      drop_title: 'Drop resumes here to upload',
      drop_hint: 'PDF, DOCX or TXT, at most 10 MB each; several at once, or a ZIP of resumes.',
      drop_here: 'Release to upload',
      upload_source: 'Source',
      upload_pick: 'Choose files',
      upload_progress: 'Uploading {done} of {total}',
      upload_done: '{total} done: {ok} new, {dup} duplicate, {err} failed',
      upload_ok: 'scored: match {score} ({outcome})',
      upload_ok_plain: 'scored: see the board',
      upload_dup: 'duplicate: this person already applied for the job; added to that application',
      upload_err: 'not read: {detail}',
      src_upload: 'Upload',
      src_referral: 'Referral',
      src_campus: 'Campus',
      src_liepin: 'Liepin',
      src_boss: 'BOSS Zhipin',
      src_zhaopin: 'Zhaopin',
      bulk_selected: '{n} selected',
      bulk_invite: 'Invite',
      bulk_confirm_pool: 'Confirm pool',
      bulk_withdraw: 'Withdraw',
      bulk_clear: 'Clear selection',
      bulk_done: '{ok} done, {fail} not done',
      bulk_fail_one: '{name}: {detail}',
      out_advance: 'advance',
      out_review: 'review',
      out_pool: 'pool',
      out_hold: 'hold',
      out_reject: 'reject',
      st_applied: 'to screen',
      st_screened: 'screened',
      st_invited: 'invited',
      st_interviewing: 'interviewing',
      st_interviewed: 'interviewed',
      st_decided: 'decided',
      st_withdrawn: 'withdrawn',
      invite: 'Invite to interview',
      confirm_pool: 'Confirm pool',
      withdraw: 'Withdraw',
      invite_link_title: 'Candidate interview link',
      invite_link_hint: 'Send this link to the candidate. It opens only once.',
      match_title: 'Job match',
      match_hint: 'Click a row to highlight its evidence in the resume. The match score assists; a recruiter decides.',
      match_total: 'Match {score} (advance at {advance}, pool below {pool})',
      m_col_req: 'Requirement',
      m_col_shows: 'Resume shows',
      m_col_status: 'Result',
      m_col_points: 'Points',
      m_col_evidence: 'Evidence',
      m_evidence_n: '{n}',
      m_met: 'met',
      m_partly: 'partly',
      m_not_met: 'not met',
      kind_education: 'Education',
      kind_years: 'Years of experience',
      kind_skill: 'Skill',
      kind_certificate: 'Certificate',
      kind_language: 'Language',
      years_n: '{n}+ years',
      years_have: '{n} years',
      how_vocab: 'same skill in the vocabulary',
      how_vocab_part: '{n} of {of} skills in the vocabulary',
      how_words: 'same words {x}',
      how_meaning: 'same meaning {x}',
      how_cert: 'same certificate',
      tl_screened: 'job match {score}',
      edu_none: 'none',
      edu_associate: 'associate',
      edu_bachelor: 'bachelor',
      edu_master: 'master',
      edu_doctorate: 'doctorate',
      lang_zh: 'Chinese',
      lang_en: 'English',
      lang_yue: 'Cantonese',
      upload_err_code: 'not read: {what}',
      code_empty: 'the file is empty',
      code_too_large: 'the file is larger than 10 MB',
      code_unsupported_type: 'unsupported file type (PDF, DOCX or TXT)',
      code_corrupt: 'the file is damaged and cannot be read; export it again and resend',
      code_encrypted: 'the file is password-protected; remove the password and resend',
      resume_title: 'Resume',
      resume_review: 'Check by hand: {fields}',
      resume_empty: 'No resume text.',
      pf_name: 'Name',
      pf_education: 'Education',
      pf_years: 'Years of experience',
      pf_skills: 'Skills',
      pf_certificates: 'Certificates',
      pf_languages: 'Languages',
      pf_experience: 'Experience',
      report_title: 'Interview report',
      report_overall: 'Interview score',
      report_band: 'Recommendation',
      report_open: 'Open the full report',
      decide_title: 'Decision',
      dec_advance: 'Advance',
      dec_hold: 'Hold',
      dec_reject: 'Reject',
      reason_placeholder: 'Reason (optional)',
      decide: 'Record decision',
      timeline_title: 'Timeline',
      dups_title: 'Applied again',
      dups_hint: 'The same phone or e-mail applied to this job again: one application, and these are the later attempts.',
      dup_line: '{at} · from {source}{file}',
      act_receive: 'received',
      act_screen: 'screened',
      act_invite: 'invited',
      act_start_interview: 'interview started',
      act_end_interview: 'interview ended',
      act_confirm_pool: 'pool confirmed',
      act_decide: 'decided',
      act_withdraw: 'withdrawn',
      act_open: 'invite opened',
      auto_title: 'Automation rules',
      auto_hint: 'A rule: when something happens (on), optionally after a while (after), if a condition holds (if), do something (do). See docs/automation.md.',
      auto_edit: 'Edit (YAML)',
      auto_save: 'Save rules',
      auto_turn_on: 'Switch these rules on',
      auto_turn_off: 'Switch rules off',
      auto_on: 'on · {n} rules',
      auto_off: 'off · {n} rules',
      auto_saved: 'Saved as version {v}',
      auto_refused: 'Not saved: {detail}',
      preview_title: 'Message template preview',
      preview_run: 'Preview',
      rule_after: 'after {after}',
      rule_if: 'if {cond}',
      aev_received: 'received',
      aev_screened: 'screened',
      aev_invited: 'invited',
      aev_opened: 'link opened',
      aev_interview_started: 'interview started',
      aev_interview_ended: 'interview ended',
      aev_decided: 'decided',
      aev_withdrawn: 'withdrawn',
      actions_title: 'Automation',
      actions_empty: "The job's rules have not done anything for this application.",
      action_rule: 'rule {rule} · {due}',
      action_retry: 'Retry',
      action_cancel: 'Cancel',
      astate_scheduled: 'scheduled',
      astate_done: 'done',
      astate_skipped: 'not run (condition not met)',
      astate_failed: 'failed',
      astate_cancelled: 'cancelled',
      delivery_line: '{sink}: {state}, {n} attempts, last {last}',
      dstate_pending: 'sending',
      dstate_delivered: 'delivered',
      dstate_failed: 'refused',
      dstate_dead: 'given up',
      delivery_replay: 'Send again',
      aact_invite: 'invite',
      aact_remind: 'reminder',
      aact_notify_candidate: 'tell the candidate',
      aact_notify_hr: 'tell HR',
      aact_sync: 'sync the result',
      ch_email: 'e-mail',
      ch_sms: 'SMS',
      ch_wecom: 'WeCom app message',
      ch_wecom_external: 'WeCom (external contact)',
      ch_wecom_robot: 'WeCom group ({group})',
      ch_successfactors: 'SuccessFactors',
      ch_hris: 'HR system',
      by_rule: 'rule {rule}',
      note_failed: 'not done',
      act_message_out: 'message sent',
      act_message_in: 'message received',
      act_automation: 'automation',
      act_sync: 'synced to the HR system',
      actor_system: 'system',
      actor_hr: 'HR',
      actor_candidate: 'candidate',
      action_failed: 'Not done: {detail}',
      logout: 'Sign out',
      signin_title: 'HR sign-in',
      token_label: 'HR token',
      signin: 'Sign in',
      signin_bad: 'The token is not correct.',
      signin_failed: 'Sign-in failed: {detail}',
      sessions_title: 'Interview sessions',
      refresh: 'Refresh',
      new_session: 'New session',
      new_link_title: 'Candidate link',
      new_link_hint: 'Send this link to the candidate. It opens only once and is not shown again after you close this box.',
      copy: 'Copy',
      copied: 'Copied to the clipboard.',
      copy_failed: 'Could not copy; select the link and copy it by hand.',
      watch_live: 'Watch live',
      dismiss: 'Close',
      col_id: 'Session',
      col_created: 'Created',
      col_expires: 'Expires',
      col_state: 'State',
      col_connected: 'Connection',
      connected_yes: 'online',
      connected_no: 'offline',
      watch: 'Watch',
      no_sessions: 'No sessions yet.',
      back: '← All sessions',
      session: 'Session',
      transcript_title: 'Live transcript',
      transcript_empty: 'The transcript appears here when the candidate speaks.',
      speaking: '● speaking',
      face_title: 'Face metrics',
      face_presence: 'Presence',
      face_faces: 'Faces (max / mean)',
      face_yaw: 'Yaw',
      face_pitch: 'Pitch',
      face_roll: 'Roll',
      face_gaze: 'Gaze at camera',
      face_time: 'Media time',
      flag_absent: 'No face',
      flag_multiple: 'Several faces',
      yes: 'yes',
      no: 'no',
      events_title: 'Events',
      ws_connecting: 'connecting…',
      ws_open: 'live',
      ws_reconnecting: 'reconnecting…',
      ws_signed_out: 'signed out',
      ev_connection_started: 'Candidate connected',
      ev_media_flowing: 'Media flowing',
      ev_connection_ended: 'Candidate connection ended ({reason})',
      ev_face_absent_start: 'No face in the picture',
      ev_face_absent_stop: 'Candidate back in the picture',
      ev_face_multiple_start: 'Several faces in the picture ({faces})',
      ev_face_multiple_stop: 'One face in the picture again',
      ev_session_error: 'Session error: {message}',
      ev_candidate_message: 'Candidate message (WeCom): {text}',
      wecom_quota: 'WeCom: {sent}/{limit} sent this month',
      wecom_quota_hint: 'WeCom limits how many messages one customer receives per calendar month, and the sender confirms each in the client',
      ev_media_dropped: 'Media dropped: {kind} × {count}',
      ev_session_created: 'Session created',
      ev_ws_resumed: 'Event stream reconnected (resuming at #{seq})',
      err_network: 'Network error: {detail}',
      err_http: 'Request failed: {detail}',
      err_no_session: 'Session {id} is not in the session list: the link may be wrong or the session deleted.',
      progress_title: 'Interview progress',
      p_practice: 'Practice question (not scored)',
      p_practice_short: 'Practice',
      p_number: 'Question {n} of {m}',
      p_number_short: 'Question {n}',
      p_pre: 'Before the questions',
      p_phase_waiting: 'not started',
      p_phase_prep: 'preparing',
      p_phase_answer: 'answering',
      p_phase_paused: 'paused (candidate disconnected)',
      p_phase_ended: 'ended',
      p_clock_prep: 'preparation left',
      p_clock_answer: 'answer time left',
      p_not_asked: 'not asked yet',
      p_state_running: 'in progress',
      p_state_ended: 'interview ended',
      p_between: 'waiting for the next question…',
      p_answer_range: 'answer {start}–{end}',
      p_outside: 'outside the answer time',
      reason_candidate_done: 'candidate finished',
      reason_time_limit: 'time limit',
      reason_long_silence: 'long silence',
      reason_no_answer: 'no answer',
      ev_question_started: '{label} started: {text}',
      ev_question_resumed: '{label} resumed (candidate reconnected)',
      ev_answer_started: '{label}: answer started',
      ev_answer_resumed: '{label}: answer resumed',
      ev_answer_ended: '{label}: answer ended ({reason})',
      ev_question_ended: '{label} ended',
      ev_interview_ended: 'Interview ended',
      ev_score: '{label} score: {overall}',
      ev_score_provisional: '{label} provisional score: {overall}',
      score_title: 'AI score',
      score_provisional: 'provisional',
      score_final: 'final',
      score_overall: 'overall',
      score_content: 'content',
      score_delivery: 'delivery',
      score_engagement: 'engagement',
      score_note: 'The AI score only assists; a recruiter makes the decision.',
      rec_title: 'Recording of the answer',
      c_recording: 'Answers recorded',
      c_recording_no: 'Not agreed (nothing kept)',
      rec_play_quote: 'Play the recording from this quote',
      score_points: 'point {id}: {score}',
      ns_title: 'New interview session',
      ns_job: 'Job',
      ns_free_talk: 'Free talk (no questions)',
      ns_candidate: 'Candidate',
      ns_candidate_hint: 'The name is required when a job is chosen; the rest is optional and is compared with the job\'s requirements.',
      ns_name: 'Name',
      ns_education: 'Education',
      ns_edu_unset: '(not given)',
      ns_edu_none: 'None',
      ns_edu_associate: 'Associate degree',
      ns_edu_bachelor: 'Bachelor\'s',
      ns_edu_master: 'Master\'s',
      ns_edu_doctorate: 'Doctorate',
      ns_years: 'Years of experience',
      ns_skills: 'Skills (comma separated)',
      ns_certificates: 'Certificates (comma separated)',
      ns_languages: 'Languages (comma separated, e.g. zh, en)',
      ns_accommodation: 'Needs an accommodation (scored on content alone)',
      ns_submit: 'Create link',
      ns_err_name: 'The candidate\'s name is required when a job is chosen.',
      ns_err_name_profile: 'A candidate profile needs the candidate\'s name.',
      ns_err_check: 'Please check the marked fields.',
      ns_jobs_failed: 'Could not load the jobs: {detail}',
      cancel: 'Cancel',
      consent_title: 'Policy and consent',
      c_policy: 'Policy',
      c_voice: 'Voice processing',
      c_face: 'Face processing',
      c_emotion: 'Emotion inference',
      c_given: 'Consent given',
      policy_pipl: 'PIPL (China, separate consents)',
      policy_eu: 'EU (no emotion inference)',
      c_yes: 'given',
      c_no: 'not given',
      c_pending: 'not given yet',
      c_withdrawn: 'withdrawn',
      c_face_audio: 'not given (audio only)',
      c_emotion_on: 'on (context only)',
      c_emotion_off: 'off',
      ev_consent_given: 'Candidate consented (voice: {voice}, face: {face}, emotion: {emotion})',
      ev_consent_withdrawn: 'Candidate withdrew consent; analysis stopped',
      m_expression: 'Facial expression (context)',
      m_arousal: 'Voice arousal (context)',
      expr_angry: 'angry',
      expr_disgust: 'disgust',
      expr_fear: 'fear',
      expr_happy: 'happy',
      expr_sad: 'sad',
      expr_surprise: 'surprise',
      expr_neutral: 'neutral',
      affect_expression: 'Facial expression: {label} {share}',
      affect_voice: 'Voice arousal mean: {arousal} ({n} utterances)',
      affect_context: 'context, not scored',
      affect_counted: 'counted: {score}'
    }
  };

  var LANG_KEY = 'candor.hr.lang';

  var ui = hr.ui = {
    lang: 'zh',
    view: null, // signin | jobs | board | application | list | live | dashboard | users | audit
    jobId: null, // the board's job
    applicationId: null, // the candidate page's application
    sessionId: null,
    ws: null,
    wsState: null,
    wsAttempt: 0,
    wsTimer: null,
    wsEverOpened: false,
    lastSeq: -1,
    utterances: {}, // utterance_id -> element
    listTimer: null,
    banner: null,
    // structured interview
    questions: {}, // question_id -> question state
    qList: [], // the same, by index
    current: null, // question_id of the question that is on
    total: null,
    scoredTotal: null,
    interviewEnded: false,
    preSection: null,
    progressTimer: null,
    clock: { t: 0, at: 0, running: false }, // media time from events
    // new session form
    jobs: null, // [{id, title, version}] from GET /v1/jobs
    nsErrors: [], // [{field, key} | {field, message}]
    // policy and consent of the watched session
    policy: null,
    consent: null,
    consentWithdrawn: false,
    consentFromEvents: false
  };

  // ---- i18n ----
  // A placeholder without a value shows as '?'.
  var t = hr.t = Candor.i18n.translator(STRINGS, function () { return ui.lang; }, '?');
  hr.STRINGS = STRINGS;  // views add their own strings (hr/users.js, hr/signin.js)

  // A {zh, en} text from the server in the page's language.
  hr.locText = function (text) { return Candor.i18n.locText(text, ui.lang); };

  // A <select> of the jobs (ui.jobs) after an "all jobs" option (allKey: its string), keeping `current` chosen.
  hr.fillJobSelect = function (select, allKey, current) {
    Candor.dom.clear(select);
    var all = Candor.dom.el('option', null, t(allKey));
    all.value = '';
    select.appendChild(all);
    (ui.jobs || []).forEach(function (j) {
      var o = Candor.dom.el('option', null, hr.locText(j.title) || j.id);
      o.value = j.id;
      select.appendChild(o);
    });
    select.value = current;
  };

  // The label of a value the server names (policy_eu, reason_time_limit...):
  // its string where there is one, else the value as sent.
  hr.labelOf = function (prefix, value) {
    var key = prefix + value;
    return STRINGS.zh[key] !== undefined ? t(key) : String(value);
  };

  // A moment as a local date and time; '—' when unreadable.
  hr.fmtDateTime = function (v) { return Candor.fmt.dateTime(v, ui.lang); };
  // A state and its outcome in words: screening's outcome is a recommendation, a decided one a person's decision.
  hr.statusLabel = function (state, outcome) {
    if (!outcome) return hr.labelOf('st_', state);
    return hr.labelOf('st_', state) + ' · ' + hr.labelOf(state === 'decided' ? 'dec_' : 'out_', outcome);
  };

  // A share (0..1) as a percentage, a boolean as yes / no.
  hr.fmtShare = function (v) { return Candor.fmt.share(v, t('yes'), t('no')); };

  function applyLang(lang, remember) {
    ui.lang = Candor.i18n.pickLang(STRINGS, lang);
    if (remember) Candor.store.set('localStorage', LANG_KEY, ui.lang);
    Candor.i18n.applyDom(t, ui.lang);
    var ph = document.querySelectorAll('[data-i18n-placeholder]');
    for (var i = 0; i < ph.length; i++) ph[i].placeholder = t(ph[i].getAttribute('data-i18n-placeholder'));
    hr.live.renderWsStatus();
    renderBanner();
    if (hr.me && hr.signin) hr.signin.applyMe();  // the badge's role in this language
    hr.sessions.renderJobOptions();
    hr.sessions.renderFieldErrors();
    hr.live.renderConsent();
    hr.interview.render();
    if (ui.view === 'jobs') hr.jobs.render();
    if (ui.view === 'board') hr.board.render();
    if (ui.view === 'application') hr.application.render();
    if (ui.view === 'dashboard' && hr.dashboard) hr.dashboard.render();
    if (ui.view === 'audit' && hr.audit) hr.audit.render();
  }

  // The banner: one message (a key of STRINGS) at a time; null hides it.
  function showBanner(key, params) {
    ui.banner = key ? { key: key, params: params || null } : null;
    renderBanner();
  }
  function renderBanner() {
    if (!ui.banner) { $('banner').hidden = true; return; }
    $('banner-text').textContent = t(ui.banner.key, ui.banner.params);
    $('banner').hidden = false;
  }

  // ---- HTTP ----
  // A JSON API call with the HR cookie: the body (null for 204 or not JSON);
  // AuthError for 401 / 403, HttpError for any other refusal.
  async function api(method, path, body) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' }
    };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    var res = await fetch(path, opts);
    if (res.status === 401) throw new http.AuthError(res.status);
    // 403: signed in, but the role may not (a banner, not the sign-in form)
    if (!res.ok) throw new http.HttpError(res.status, await http.readDetail(res));
    if (res.status === 204) return null;
    var ct = res.headers.get('Content-Type') || '';
    return ct.indexOf('json') >= 0 ? res.json() : null;
  }

  function handleError(err) {
    if (err && err.name === 'AuthError') { hr.signin.show(); return; }
    if (err && err.name === 'HttpError') { showBanner('err_http', { detail: err.detail }); return; }
    showBanner('err_network', { detail: (err && err.message) || String(err) });
  }

  // ---- views ----
  function setView(view) {
    ui.view = view;
    $('signin').hidden = view !== 'signin';
    $('list-view').hidden = view !== 'list';
    $('live-view').hidden = view !== 'live';
    $('jobs-view').hidden = view !== 'jobs';
    $('board-view').hidden = view !== 'board';
    $('application-view').hidden = view !== 'application';
    if ($('dashboard-view')) $('dashboard-view').hidden = view !== 'dashboard';
    if ($('users-view')) $('users-view').hidden = view !== 'users';
    if ($('nav-users')) $('nav-users').className = view === 'users' ? 'active' : '';
    if ($('audit-view')) $('audit-view').hidden = view !== 'audit';
    if ($('nav-audit')) $('nav-audit').className = view === 'audit' ? 'active' : '';
    $('logout').hidden = view === 'signin';
    $('hr-nav').hidden = view === 'signin';
    $('nav-jobs').className = view === 'jobs' || view === 'board' || view === 'application' ? 'active' : '';
    $('nav-sessions').className = view === 'list' || view === 'live' ? 'active' : '';
    if ($('nav-dashboard')) $('nav-dashboard').className = view === 'dashboard' ? 'active' : '';
    if (view !== 'list') hr.sessions.stopRefresh();
  }

  // Which view a path shows: {view, id}. /hr is the jobs, /hr/jobs/<id> a
  // job's board, /hr/applications/<id> a candidate, /hr/sessions the session
  // list, /hr/sessions/<id> one session live, /hr/dashboard the dashboard,
  // /hr/users the users, /hr/audit the audit trail and bias audit.
  function routeOf(path) {
    if (/^\/hr\/dashboard\/?$/.test(path || '')) return { view: 'dashboard', id: null };
    if (/^\/hr\/users\/?$/.test(path || '')) return { view: 'users', id: null };
    if (/^\/hr\/audit\/?$/.test(path || '')) return { view: 'audit', id: null };
    var m = /^\/hr\/(sessions|jobs|applications)(?:\/([^\/]+))?\/?$/.exec(path || '');
    if (!m) return { view: 'jobs', id: null };
    var id = m[2] ? decodeURIComponent(m[2]) : null;
    if (m[1] === 'sessions') return id ? { view: 'live', id: id } : { view: 'list', id: null };
    if (!id) return { view: 'jobs', id: null };
    return { view: m[1] === 'jobs' ? 'board' : 'application', id: id };
  }

  function route() {
    showBanner(null);
    var r = routeOf(location.pathname);
    if (r.view === 'live') hr.live.open(r.id);
    else if (r.view === 'list') hr.sessions.open();
    else if (r.view === 'board') hr.board.open(r.id);
    else if (r.view === 'application') hr.application.open(r.id);
    else if (r.view === 'dashboard' && hr.dashboard) hr.dashboard.open();
    else if (r.view === 'users' && hr.users) hr.users.open();
    else if (r.view === 'audit' && hr.audit) hr.audit.open();
    else hr.jobs.open();
  }

  hr.showBanner = showBanner;
  hr.api = api;
  hr.handleError = handleError;
  hr.setView = setView;
  hr.route = route;
  hr.routeOf = routeOf;

  // ---- boot ----
  function boot() {
    applyLang(Candor.store.get('localStorage', LANG_KEY) || 'zh', false);
    $('lang-toggle').addEventListener('click', function () {
      applyLang(ui.lang === 'zh' ? 'en' : 'zh', true);
      if (ui.view === 'list') hr.sessions.load().catch(handleError);
    });
    hr.signin.init();
    hr.sessions.init();
    hr.live.init();
    hr.jobs.init();
    hr.board.init();
    hr.application.init();
    hr.automation.init();
    if (hr.dashboard) hr.dashboard.init();
    if (hr.users) hr.users.init();
    if (hr.audit) hr.audit.init();
    route();
  }

  // Read-only hooks for tests and support.
  window.candorHr = {
    get view() { return ui.view; },
    get board() { return hr.board ? hr.board.snapshot() : null; },
    get wsState() { return ui.wsState; },
    get lastSeq() { return ui.lastSeq; },
    get currentQuestion() { return ui.current; },
    get questions() {
      return ui.qList.map(function (q) {
        return { question_id: q.id, index: q.index, practice: q.practice, phase: q.paused ? 'paused' : q.phase,
          reason: q.reason, answer_start: q.aStart, answer_end: q.aEnd,
          score: q.score ? { provisional: q.score.provisional, overall: q.score.data.overall } : null };
      });
    }
  };

  // The views (hr/*.js) load after this file: start once they all have.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})(window.Candor);
