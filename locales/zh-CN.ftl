# 页面文字（简体中文）。每条消息在 en.ftl 中都有对应的一条（有测试检查）。
# 以 js- 开头的消息也供页面脚本使用，变量保留为 {$name}，由 static/i18n.js 填入。
# 用语依照中文区块链资料的习惯：区块、交易、挖矿、钱包、公钥、私钥、难度、节点、
# 区块链浏览器、矿工奖励、待确认交易。

## 两个应用共用

brand = 区块链
skip-to-content = 跳到正文
nav-main = 主导航
nav-language = 语言
footer = 教学用区块链，这里的币没有任何价值。
node-url = 区块链节点地址
mine-to-wallet = 挖一个区块给这个钱包
sender = 发送方
recipient = 接收方
amount = 金额
nonce = 随机数
value = 金额
timestamp = 时间戳
time = 时间
block = 区块
balance = 余额
confirmed = 已确认
pending = 待确认
history = 交易记录
status = 状态
direction = 方向
counterparty = 对方地址
cancel = 取消

## 钱包应用

client-brand = 区块链钱包
nav-wallet-generator = 生成钱包
nav-make-transaction = 发起交易
nav-view-transactions = 查看交易
nav-wallet-balance = 钱包余额

gen-lead = 点击下面的按钮生成你的区块链钱包：公钥就是你的地址，私钥用来为你的付款签名。
gen-new-wallet = 新钱包
gen-key-size = 密钥长度
gen-bits-2048 = 2048 位（推荐）
gen-bits-1024 = 1024 位（与原版客户端相同）
gen-bits-3072 = 3072 位
gen-generate = 生成钱包
gen-your-wallet = 你的新钱包
gen-important = 重要：
gen-save-keys = 请立即保存你的私钥和公钥，丢失后无法找回！不要把私钥告诉任何人：谁持有私钥，谁就能花掉你的币。
gen-public-key = 公钥（你的地址）
gen-copy-public = 复制公钥
gen-check-balance = 查看余额
gen-private-key = 私钥
gen-copy-private = 复制私钥
gen-download = 下载钱包文件
gen-not-kept = 本页面不会保存你的密钥：离开页面后密钥就没有了。
gen-get-coins = 获取测试币
gen-get-coins-lead = 新钱包里什么都没有。在测试网络上人人都可以挖矿：让节点挖一个区块，把矿工奖励付给这个钱包。这个区块同时会确认节点交易池中的待确认交易。只为老师挖矿的课堂节点会改由水龙头给你发币。
gen-then-pay-before = 然后可以在
gen-then-pay-after = 页面向别人付款，或者在上面再生成一个钱包，向它付款。

make-heading = 转账
make-lead = 填写交易信息并点击“生成交易”。交易签名后、发送到节点之前，你可以先核对一遍。
make-details = 交易信息
make-sender-address = 发送方地址
make-sender-address-help = 你的公钥，即“生成钱包”页面显示的那个。
make-sender-private-key = 发送方私钥
make-sender-private-key-help = 只在本浏览器中用于签名，不会发送到任何地方：既不发给钱包应用，也不发给节点。
make-recipient-address = 接收方地址
make-amount = 转账金额
make-amount-help = 正数，最多 8 位小数，例如 5 或 0.25。
make-generate = 生成交易
make-confirm-heading = 确认交易信息
make-signature = 交易签名
make-node-url-help = 交易由你的浏览器直接发送到这个节点，并按该节点的类型签名；修改地址后会重新签名。
make-confirm = 确认交易

view-lead = 输入区块链节点地址并点击“查看交易”，列出该节点链上的全部交易。
view-node = 节点
view-on-chain = 链上交易
view-choose-node = 选择一个节点，然后点击“查看交易”。

wallet-lead = 输入钱包地址（公钥），查看它的余额和相关交易。
wallet-look-up = 查询钱包
wallet-address = 钱包地址
wallet-check = 查询余额
wallet-mine-help = 节点会挖一个区块，把矿工奖励付给这个钱包（测试网络上获取币的方法）；只为老师挖矿的课堂节点会改由水龙头发币。

not-found-title = 页面不存在
not-found-heading = 找不到该页面
not-found-before = 这个地址没有页面。请前往
not-found-after = 页面。

## 节点

node-brand = 区块链节点
nav-mine = 挖矿
nav-configure = 设置
network = 网络
height = 区块高度
difficulty = 难度
unit-bits = 位
bits = { $bits } 位
reward = 矿工奖励
peers = 对等节点
mining = 挖矿
tip = 最新区块
hash = 哈希
id = 交易 ID
signature = 签名
address = 地址
transaction = 交易
transactions = 交易
reward-address = 奖励地址
page-of = 第 { $page } 页，共 { $pages } 页

mine-lead = 待确认交易在这里等待，直到本节点把它们打包进区块。本页面会实时跟随节点的工作，无需刷新。
mine-this-node = 本节点
mine-last-block = 上一个区块
mine-rewards-go-to = 奖励发往
mine-a-block = 挖一个区块
mine-reward-help-before = 区块的矿工奖励 { $reward } 会付到这个地址。默认是本节点的奖励地址（可在
mine-reward-help-after = 页面修改）；粘贴任意钱包的公钥即可改为奖励该钱包。
mine-button = 挖矿
mine-expected-before = 打包待确认交易（没有则挖一个空区块），难度 { $bits } 位：平均约需尝试{" "}
mine-expected-after = {" "}次。
mine-recent-blocks = 最近的区块
chart-interval = 出块间隔（秒）
chart-payments = 每个区块的交易数
chart-hashrate = 全网算力（次/秒，根据工作量和时间估算）
chart-hashrate-label = 估算算力
mine-pending-heading = 将被打包进下一个区块的交易
mine-pending-caption = 待确认交易
mine-chain-heading = 区块链上的交易
mine-resolve = 刷新（解决冲突）
mine-chain-caption = 已确认交易，最新区块在前
mine-chain-pages = 区块链分页
mine-newer = 较新的区块
mine-older = 较早的区块

conf-lead-before = 设置立即生效，重启后仍然保留。脚本也可以通过{" "}
conf-lead-and = {" "}和{" "}
conf-lead-after = {" "}（JSON）完成同样的操作。
conf-background = 有待确认交易时在后台自动挖矿
conf-interval = 出块间隔（秒）
conf-interval-help = 两个后台区块之间至少相隔的秒数（0 到 86400）。
conf-threads = 挖矿线程数
conf-threads-help = 1 到 { $max }（本机的核心数）。
conf-difficulty = 挖矿难度（位）
conf-difficulty-help = 不低于网络难度 { $bits }。难度每增加 1 位，挖出一个区块所需的尝试次数翻倍，它为链增加的工作量也翻倍：两个区块争夺同一高度时，工作量更大的一方胜出。
conf-reward-help-before = 钱包公钥（十六进制）。留空则奖励本节点自己的钱包{" "}
conf-reward-help-after = 。
conf-save = 保存设置
conf-add-nodes = 添加节点
conf-node-urls = 节点地址
conf-node-urls-help = 用逗号分隔。协议可以省略（默认 http）；每个节点也会反向注册本节点。
conf-syncs-from = 本节点从这些节点同步
conf-peers-caption = 对等节点及其健康状况
conf-node = 节点
conf-state = 状态
conf-last-contact = 最近联系
conf-round-trip = 往返时间
conf-last-sync = 最近同步
conf-actions = 操作

block-heading = 区块 { $number }
block-previous-hash = 前一区块哈希
block-genesis-previous = （网络参数的哈希）
block-merkle-root = 默克尔根
block-neighbours = 相邻区块
block-previous = 上一个区块
block-next = 下一个区块
block-transactions-caption = 本区块中的交易
block-no-transactions = 没有交易。

tx-confirmed-in = 已在区块 { $block } 中确认
tx-pending = 待确认
tx-no-nonce = 无（原版的三字段消息）
tx-no-signature = 无：由区块链铸造

address-this-miner = 本节点的矿工
address-pending-in = 待确认收入
address-pending-out = 待确认支出
address-history-caption = 该地址的交易，最新的在前
address-no-transactions = 暂无交易。

## 节点的错误页面

error-back = 返回挖矿页面
error-title-bad-request = 请求无效
error-title-not-found = 未找到
error-title-storage = 存储故障
error-title-other = 出错了
error-no-block = 没有区块 { $number }；最新区块高度为 { $tip }。
error-no-transaction = 没有交易 { $id }。
error-bad-block-number = 区块号 { $given } 不是整数。
error-bad-transaction-id = 交易 ID 应为 64 位十六进制数字。
error-no-page = { $path } 没有页面。
error-bad-address = 这不是有效的钱包地址（十六进制公钥）。详细信息（英文）：{ $detail }
error-storage = 节点无法读取数据库；详情见节点日志。
error-other = 详细信息（英文）：{ $detail }

## 页面脚本

js-copy = 复制
js-copied = 已复制
js-copy-failed = 复制失败
js-select-it = 请手动选中
js-copy-full-value = 复制完整内容
js-copy-full-recipient = 复制完整的接收方地址
js-copy-full-sender = 复制完整的发送方地址
js-copy-full-address = 复制完整地址
js-copy-full-counterparty = 复制完整的对方地址
js-utc = { $time }（UTC）
js-the-blockchain = 区块链
js-none = （无）
js-never = 从未
js-ms = { $ms } 毫秒

js-cannot-reach-app = 无法连接钱包应用：{ $error }
js-crypto-notice-lead = 在本页面上，你的私钥会离开浏览器。
js-crypto-notice-generate = 浏览器只在安全上下文中提供 Web Crypto（HTTPS，或本机地址 127.0.0.1、localhost），而本页面（{ $origin }）不在安全上下文中。因此由钱包应用的服务器生成密钥，你的私钥会经网络传到服务器。
js-crypto-notice-sign = 浏览器只在安全上下文中提供 Web Crypto（HTTPS，或本机地址 127.0.0.1、localhost），而本页面（{ $origin }）不在安全上下文中。因此由钱包应用的服务器为付款签名，你的私钥会经网络传到服务器。
js-crypto-notice-fix = 若要让密钥留在浏览器中，请在运行钱包应用的机器上通过 { $first } 或 { $second } 打开它，或者使用 HTTPS。

js-mine-to-busy = 正在 { $node } 挖区块…
js-mine-to-failed = 节点未能挖出区块。
js-mine-to-mined = 区块 { $block } 已挖出。
js-mine-to-reward = 矿工奖励 { $reward } 已付给这个钱包。
js-balance-now = 当前余额{" "}
js-balance-pending = （待确认 { $pending }）

js-generating-browser = 正在浏览器中生成 { $bits } 位密钥…
js-generating-server = 正在生成 { $bits } 位密钥…
js-wallet-failed = 钱包生成失败。
js-wallet-generated-browser = 钱包已在浏览器中生成，私钥没有离开浏览器。请保存下面的两个密钥。
js-wallet-generated-server = 钱包由钱包应用的服务器生成（见上方提示）。请保存下面的两个密钥。

js-private-key-help-server = 发送到钱包应用用于签名（见上方提示），签名后即被丢弃，绝不会发给节点。
js-node-url-unchecked = 无法检查节点地址。
js-sign-failed = 交易签名失败。
js-signed-again = 已为 { $node } 重新签名。请核对信息后确认。
js-cannot-reach-node = 无法连接 { $node } 上的节点。请检查地址，并确认节点正在运行。
js-tx-submitted = 交易已提交。
js-tx-id = 交易 ID：
js-view-transactions-link = 查看交易
js-tx-refused = 节点拒绝了这笔交易。
js-need-coins = 需要币吗？
js-need-coins-link = 打开这个钱包的余额页面，挖一个区块给它
js-need-coins-end = 。

js-chain-failed = 无法获取区块链。
js-no-transactions-to-show = 没有可显示的交易。
js-chain-empty = 这条链上还没有交易。
js-n-transactions-one = { $n } 笔交易
js-n-transactions-other = { $n } 笔交易
js-in-n-blocks-one = { $n } 个区块
js-in-n-blocks-other = { $n } 个区块
js-chain-summary = { $blocks }中共有 { $transactions }
js-loaded = 已加载：{ $summary }。

js-balance-failed = 无法获取余额。
js-status-pending = 待确认
js-status-confirmed = 已确认
js-received = 收入
js-sent = 支出
js-wallet-no-history = 这个钱包还没有相关交易。
js-balance-status = 余额 { $balance }，待确认 { $pending }。

js-node-answered = 节点返回了 { $status }
js-ago-seconds = { $n } 秒前
js-ago-minutes = { $n } 分钟前
js-ago-hours = { $n } 小时前
js-ago-days = { $n } 天前
js-more-in-block = 区块 { $block } 中还有 { $n } 笔
js-no-chain-transactions = 链上还没有交易。
js-no-pending = 没有待确认交易。
js-first-of = 共 { $count } 笔，显示前 { $shown } 笔
js-mining-now = 正在挖矿
js-mining-background = 后台挖矿
js-mining-on-demand = 按需挖矿
js-miner-balance = 余额 { $balance }
js-last-search = 本节点挖出的上一个区块：{ $block }，尝试 { $tries } 次，用时 { $seconds } 秒（{ $rate } 次/秒）。
js-progress = 正在挖区块 { $block }，难度 { $bits } 位：已用 { $seconds } 秒，已尝试 { $tries } 次，平均需要 { $expected } 次，{ $rate } 次/秒。
js-chart-not-enough = 区块还不够多
js-chart-no-blocks = 还没有挖出区块
js-chart-point = 区块 { $block }：{ $value }
js-chart-max = 最大 { $value }
js-chart-range = 区块 { $from }–{ $to }
js-chart-seconds = { $value } 秒
js-chart-count = { $value }
js-chart-rate = { $value } 次/秒
js-last-blocks = 最近 { $n } 个区块
js-peer-reachable = 可连接
js-peer-unreachable = 无法连接
js-peer-retry = { $seconds } 秒后重试
js-remove = 移除
js-no-peers = 还没有节点。
js-live-connecting = 正在连接…
js-live-open = 实时
js-live-reconnecting = 正在重新连接…
js-reorg = 节点切换到了一条工作量更大的链：从区块 { $fork } 起的区块被替换（高度 { $height }），{ $reinjected } 笔交易回到交易池。
js-mining-busy = 正在挖矿…
js-forged-one = 区块 { $block } 已挖出，包含 { $n } 笔交易（随机数 { $nonce }）；矿工奖励已付给 { $address }。
js-forged-other = 区块 { $block } 已挖出，包含 { $n } 笔交易（随机数 { $nonce }）；矿工奖励已付给 { $address }。
js-mining-failed = 挖矿失败：{ $error }
js-resolve-busy = 正在向对等节点索取它们的链…
js-resolve-no-peers = （没有对等节点）
js-resolve-failed = 解决冲突失败：{ $error }
js-cannot-reach-this-node = 无法连接本节点：{ $error }
js-peer-removed = 已移除 { $peer }。
js-saved = 已保存。后台挖矿：{ $background }，出块间隔至少 { $interval } 秒；{ $threads }；难度 { $difficulty } 位；奖励发往 { $rewards }。
js-on = 开启
js-off = 关闭
js-n-threads-one = { $n } 个线程
js-n-threads-other = { $n } 个线程
js-this-node-wallet = 本节点的钱包

## 节点和钱包应用的已知回答（static/i18n.js 根据英文回答匹配）

js-answer-will-be-added = 交易将被打包进区块 { $block }
js-answer-chain-replaced = 本节点的链已被替换
js-answer-chain-authoritative = 本节点的链是权威链
js-answer-nodes-added = 已添加新节点
js-answer-insufficient-funds = 余额不足：发送方可用余额为 { $have }（已扣除待确认的支出），但要发送 { $need }。
js-answer-unreachable = 无法连接节点。请检查地址，并确认节点正在运行。
js-answer-amount = 金额必须是正数，最多 8 位小数，例如 5 或 0.25。
js-answer-empty = { $field }为空。
js-answer-private-as-public = { $field }填的是私钥而不是公钥：千万不要泄露私钥。
js-answer-bad-key = { $field }不是有效的密钥。
js-answer-self-payment = 接收方是发送方自己的地址；请付款给其他钱包。
js-answer-replay = 这笔交易已经提交过了。
js-answer-signature = 签名与交易不匹配。
js-answer-bad-setting = { $field }超出允许范围。
js-answer-bad-url = 节点地址无效。
js-answer-other = 详细信息（英文）：{ $detail }
js-sync-adopted = 已采用它的链
js-sync-not-better = 工作量不多于本节点
js-sync-invalid = 它的链无效
js-sync-timeout = 本轮结束时仍在验证它的链
js-field-sender-address = 发送方地址
js-field-recipient-address = 接收方地址
js-field-sender-private-key = 发送方私钥
js-field-amount = 金额
js-field-reward-address = 奖励地址
js-field-node = 节点地址
js-field-block-interval = 出块间隔
js-field-mining-threads = 挖矿线程数
js-field-mining-difficulty = 挖矿难度
js-field-nonce = 随机数
js-field-bits = 密钥长度

# faucet (issue #22): the wallet app's Get coins, when the node pays from its faucet
js-faucet-sent-one = 水龙头给你发了 { $amount } 个币，
js-faucet-sent-other = 水龙头给你发了 { $amount } 个币，
js-faucet-arrives = 将随下一个区块（区块 { $block }）到账。
conf-faucet = 水龙头
conf-faucet-lead-before = 学生的钱包通过{" "}
conf-faucet-lead-after = {" "}领取币：本节点从自己的钱包付款，每个钱包、每台机器在一段时间内只能领一次。把区块挖给本节点的钱包即可给水龙头加币。
conf-faucet-enabled = 向申请的钱包付款
conf-faucet-amount = 每个钱包的币数
conf-faucet-amount-help = 设为 0 即关闭水龙头。
conf-found = 发现方式
js-found-configured = 启动时指定
js-found-operator = 由操作员添加
js-found-itself = 对方自行注册
js-found-discovered = 在局域网中发现
js-found-stored = 沿用上次运行
js-faucet-saved-on-one = 已保存。水龙头给每个钱包发 { $amount } 个币。
js-faucet-saved-on-other = 已保存。水龙头给每个钱包发 { $amount } 个币。
js-faucet-saved-off = 已保存。水龙头已关闭。
# Storage refusing writes (a full disk), shown on the Mine dashboard.
js-storage-disk-full = 磁盘自 { $since } 起已满：{ $error }。在腾出空间之前，节点将拒绝新的交易和区块；节点会自动重试，无需重启。
js-storage-failing = 存储自 { $since } 起写入失败：{ $error }。在恢复写入之前，节点将拒绝新的交易和区块；节点会自动重试。
## Merkle proofs and search (branch proofs)
search-label = 搜索区块链
search-placeholder = 高度、哈希、交易 ID 或地址
search-button = 搜索
search-empty = 请输入要搜索的区块高度、区块哈希、交易 ID 或地址。
search-too-short = 输入太短，无法搜索：请输入区块高度，或哈希、交易 ID 的至少 8 位十六进制数字。
search-nothing = 本节点上没有以「{ $query }」开头的区块哈希或交易 ID。
search-nothing-full = 本节点上没有哈希为「{ $query }」的区块或交易。
search-ambiguous = 以「{ $query }」开头的区块或交易不止一个：请多输入几位。
search-malformed = 「{ $query }」不是区块高度、哈希、交易 ID 或地址：它们只含数字或十六进制数字。
proof-title = 默克尔证明
proof-intro = 从这笔交易的叶子节点到所在区块默克尔根的路径：每一层给出兄弟节点的哈希及其所在的一侧。你的浏览器会自行重新计算哈希。
proof-leaf = 叶子节点
proof-level = 第 { $level } 层
proof-sibling-left = 兄弟节点在左侧
proof-sibling-right = 兄弟节点在右侧
proof-root = 区块 { $block } 的默克尔根
proof-single = 该区块只有这一笔交易：它的叶子节点就是默克尔根，路径为空。
proof-json = 以 JSON 格式查看证明
proof-pending = 待确认交易还没有默克尔证明：打包进区块后才会有。
js-proof-checking = 正在浏览器中验证…
js-proof-verified = 已在你的浏览器中验证：这条路径从叶子节点通向区块的默克尔根。
js-proof-leaf-failed = 叶子节点验证失败：由这笔交易的 ID 和签名算出的哈希与证明中的叶子节点不符。
js-proof-root-failed = 第 { $level } 层验证失败：路径通向 { $computed }，而不是区块的默克尔根。
js-proof-no-crypto = 此浏览器无法在这里计算哈希：{ $error }
# Network page: the block tree (branch tree)
nav-network = 网络
net-lead = 本节点所知的每个区块，画成一棵树：最优链在上方，落败的区块在下方。两个节点同时挖矿时链会分叉；工作量最多的链胜出，工作量相等时哈希较小者胜出。
net-tree-heading = 区块树
net-legend-best = 最优链
net-legend-stale = 孤块（落败）
net-legend-tip = 节点的链头
net-loading = 正在加载区块树…
net-peers-heading = 各节点的链头
net-col-tip = 链头
net-from = 起始高度
net-to = 至
net-show = 显示
net-newest = 最新区块
net-range-help = 一次最多 500 个高度；留空则显示最新的 50 个。
js-net-this-node = 本节点
js-net-peers-one = { $n } 个节点
js-net-peers-other = { $n } 个节点
js-net-tie = 工作量相等：哈希较小者胜出
js-net-tie-hashes = { $winner } < { $loser }
js-net-mined-here = 本节点挖出
js-net-from = 来自 { $peer }
js-net-from-unknown = 在节点上次启动前收到
js-net-block = 区块 { $number }
js-net-txs-one = { $n } 笔交易
js-net-txs-other = { $n } 笔交易
js-net-first-seen = 首次收到于 { $time }
js-net-stale = 孤块：不在最优链上
js-net-best = 在最优链上
js-net-summary = 高度 { $from } 至 { $to }：共 { $blocks } 个区块，其中 { $stale } 个孤块。
js-net-summary-none-one = 高度 { $from } 至 { $to }：共 { $n } 个区块，没有孤块。
js-net-summary-none-other = 高度 { $from } 至 { $to }：共 { $n } 个区块，没有孤块。
js-net-reorg = 链重组：节点从区块 { $fork } 起切换到了另一条分支（高度 { $height }）。
js-net-tip-elsewhere = 不在此范围内
js-net-no-peers = 没有节点。请在“设置”页添加。
js-net-error = 无法加载区块树：{ $detail }
