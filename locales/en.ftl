# The pages' words in English. Every message here has its twin in zh-CN.ftl (a test
# checks), and every message is used by a template, a script or the Rust that renders pages.
# Messages starting with js- go to the pages' scripts too, with their variables kept as
# {$name} for static/i18n.js to fill in. A space at either end of a message is written {" "}.

## Both apps

brand = Blockchain
skip-to-content = Skip to content
nav-main = Main
nav-language = Language
footer = A teaching blockchain. Coins here have no value.
node-url = Blockchain Node URL
mine-to-wallet = Mine a block to this wallet
sender = Sender
recipient = Recipient
amount = Amount
nonce = Nonce
value = Value
timestamp = Timestamp
time = Time
block = Block
balance = Balance
confirmed = Confirmed
pending = Pending
history = History
status = Status
direction = Direction
counterparty = Counterparty
cancel = Cancel

## The wallet app

client-brand = Blockchain Client
nav-wallet-generator = Wallet Generator
nav-make-transaction = Make Transaction
nav-view-transactions = View Transactions
nav-wallet-balance = Wallet Balance

gen-lead = Click the button below to generate your blockchain wallet: a public key, which is your address, and a private key, which signs your payments.
gen-new-wallet = New wallet
gen-key-size = Key size
gen-bits-2048 = 2048 bits (recommended)
gen-bits-1024 = 1024 bits (as the original client)
gen-bits-3072 = 3072 bits
gen-generate = Generate Wallet
gen-your-wallet = Your new wallet
gen-important = Important:
gen-save-keys = save your private and public keys now. These keys cannot be recovered! Don't share your private key with anyone: whoever holds it can spend your coins.
gen-public-key = Public Key (your address)
gen-copy-public = Copy public key
gen-check-balance = Check its balance
gen-private-key = Private Key
gen-copy-private = Copy private key
gen-download = Download wallet file
gen-not-kept = This page does not keep your keys: they are gone when you leave it.
gen-get-coins = Get coins
gen-get-coins-lead = A new wallet holds nothing. On a test network anyone can mine: ask the node to mine a block whose reward pays this wallet. The block also confirms the payments waiting in the node's pool. A classroom node that mines only for its teacher sends coins from its faucet instead.
gen-then-pay-before = Then pay someone on{" "}
gen-then-pay-after = , or generate a second wallet above to pay it.

make-heading = Send Coins
make-lead = Enter the transaction details and click “Generate Transaction”. You can check the signed transaction before it goes to the node.
make-details = Transaction details
make-sender-address = Sender Address
make-sender-address-help = Your public key, as the Wallet Generator showed it.
make-sender-private-key = Sender Private Key
make-sender-private-key-help = Used in this browser to sign; it is sent nowhere, neither to the wallet app nor to the node.
make-recipient-address = Recipient Address
make-amount = Amount to Send
make-amount-help = A positive number with up to 8 decimals, such as 5 or 0.25.
make-generate = Generate Transaction
make-confirm-heading = Confirm transaction details
make-signature = Transaction Signature
make-node-url-help = The transaction is posted from your browser to this node. It is signed for the kind of node found there; change the URL and it is signed again.
make-confirm = Confirm Transaction

view-lead = Enter a blockchain node URL and click “View Transactions” to list every transaction on its chain.
view-node = Node
view-on-chain = Transactions on the chain
view-choose-node = Choose a node and click “View Transactions”.

wallet-lead = Enter a wallet address (a public key) to see its balance and the transactions that involve it.
wallet-look-up = Look up a wallet
wallet-address = Wallet Address
wallet-check = Check Balance
wallet-mine-help = The node mines a block whose reward pays this wallet (test networks: how to get coins); a classroom node that mines only for its teacher sends coins from its faucet instead.

not-found-title = Not found
not-found-heading = Page not found
not-found-before = There is no page at this address. Try the{" "}
not-found-after = .

## The node

node-brand = Blockchain Node
nav-mine = Mine
nav-configure = Configure
network = Network
height = Height
difficulty = Difficulty
unit-bits = bits
bits = { $bits } bits
reward = Reward
peers = Peers
mining = Mining
tip = Tip
hash = Hash
id = Id
signature = Signature
address = Address
transaction = Transaction
transactions = Transactions
reward-address = Reward address
page-of = Page { $page } of { $pages }

mine-lead = Pending transactions wait here until this node mines them into a block. This page follows the node as it works: no need to reload.
mine-this-node = This node
mine-last-block = Last block
mine-rewards-go-to = Rewards go to
mine-a-block = Mine a block
mine-reward-help-before = The block's reward of { $reward } goes here. It starts as this node's reward address (
mine-reward-help-after = {" "}changes it); paste any wallet's public key to pay that wallet instead.
mine-button = Mine
mine-expected-before = Mines the pending transactions (or an empty block) at { $bits } bits: about{" "}
mine-expected-after = {" "}tries.
mine-recent-blocks = Recent blocks
chart-interval = Seconds between blocks
chart-payments = Payments per block
chart-hashrate = Network hash rate (tries/s, estimated from work and time)
chart-hashrate-label = Estimated hash rate
mine-pending-heading = Transactions to be added to the next block
mine-pending-caption = Pending transactions
mine-chain-heading = Transactions on the blockchain
mine-resolve = Refresh (resolve conflicts)
mine-chain-caption = Confirmed transactions, newest block first
mine-chain-pages = Chain pages
mine-newer = Newer blocks
mine-older = Older blocks

conf-lead-before = Settings take effect at once and are kept across restarts. Scripts can do the same with{" "}
conf-lead-and = {" "}and{" "}
conf-lead-after = {" "}(JSON).
conf-background = Mine in the background whenever transactions are pending
conf-interval = Block interval (seconds)
conf-interval-help = The fewest seconds between two background blocks (0 to 86400).
conf-threads = Mining threads
conf-threads-help = 1 to { $max } (this machine's cores).
conf-difficulty = Mining difficulty (bits)
conf-difficulty-help = At least the network's { $bits }. Each extra bit doubles the tries a block takes, and doubles the work it adds to the chain: when two blocks compete for the same height, the one with more work wins.
conf-reward-help-before = A wallet's public key (hex). Leave it empty to pay this node's own wallet,{" "}
conf-reward-help-after = .
conf-save = Save settings
conf-add-nodes = Add nodes
conf-node-urls = Node URLs
conf-node-urls-help = Comma-separated. The scheme is optional (http is assumed); each node registers this one back.
conf-syncs-from = This node syncs from
conf-peers-caption = Peers and their health
conf-node = Node
conf-state = State
conf-last-contact = Last contact
conf-round-trip = Round trip
conf-last-sync = Last sync
conf-actions = Actions

block-heading = Block { $number }
block-previous-hash = Previous hash
block-genesis-previous = (hash of the network parameters)
block-merkle-root = Merkle root
block-neighbours = Neighbouring blocks
block-previous = Previous block
block-next = Next block
block-transactions-caption = Transactions in this block
block-no-transactions = No transactions.

tx-confirmed-in = confirmed in block { $block }
tx-pending = pending
tx-no-nonce = none (original three-field message)
tx-no-signature = none: minted by the chain

address-this-miner = this node's miner
address-pending-in = Pending in
address-pending-out = Pending out
address-history-caption = Transactions of this address, newest first
address-no-transactions = No transactions yet.

## The node's error pages: a title by status, and the known refusals in words

error-back = Back to the Mine dashboard
error-title-bad-request = Bad request
error-title-not-found = Not found
error-title-storage = Storage failure
error-title-other = Something went wrong
error-no-block = No block { $number }; the tip is { $tip }.
error-no-transaction = No transaction { $id }.
error-bad-block-number = Block number { $given } is not a whole number.
error-bad-transaction-id = A transaction id is 64 hex digits.
error-no-page = There is no page at { $path }.
error-bad-address = { $detail }.
error-storage = The node could not read its database; details are in its log.
error-other = { $detail }.

## The pages' scripts

js-copy = Copy
js-copied = Copied
js-copy-failed = Copy failed
js-select-it = Select it
js-copy-full-value = Copy full value
js-copy-full-recipient = Copy full recipient address
js-copy-full-sender = Copy full sender address
js-copy-full-address = Copy full address
js-copy-full-counterparty = Copy full counterparty address
js-utc = { $time } UTC
js-the-blockchain = THE BLOCKCHAIN
js-none = (none)
js-never = never
js-ms = { $ms } ms

js-cannot-reach-app = Cannot reach the wallet app: { $error }
js-crypto-notice-lead = On this page your private key leaves the browser.{" "}
js-crypto-notice-generate = Your browser offers Web Crypto only in a secure context (HTTPS, or this machine's own address: 127.0.0.1 or localhost), and this page, at { $origin }, is not one. So the wallet app's server generates your keys, and your private key travels to it over the network.
js-crypto-notice-sign = Your browser offers Web Crypto only in a secure context (HTTPS, or this machine's own address: 127.0.0.1 or localhost), and this page, at { $origin }, is not one. So the wallet app's server signs your payments, and your private key travels to it over the network.
js-crypto-notice-fix = To keep keys in your browser, open the wallet app on the machine it runs on, at { $first } or { $second }, or over HTTPS.

js-mine-to-busy = Mining a block at { $node }…
js-mine-to-failed = The node could not mine.
js-mine-to-mined = Block { $block } mined.{" "}
js-mine-to-reward = Its reward of { $reward } went to this wallet.
js-balance-now = Balance now{" "}
js-balance-pending = {" "}(pending { $pending })

js-generating-browser = Generating a { $bits }-bit key in your browser…
js-generating-server = Generating a { $bits }-bit key…
js-wallet-failed = The wallet could not be generated.
js-wallet-generated-browser = Wallet generated in your browser; the private key has not left it. Save both keys below.
js-wallet-generated-server = Wallet generated by the wallet app's server (see the notice above). Save both keys below.

js-private-key-help-server = Sent to the wallet app to sign (see the notice above), then forgotten. It is never sent to the node.
js-node-url-unchecked = The node URL could not be checked.
js-sign-failed = The transaction could not be signed.
js-signed-again = Signed again for { $node }. Check the details and confirm.
js-cannot-reach-node = Cannot reach the node at { $node }. Check the URL and that the node is running.
js-tx-submitted = Transaction submitted.{" "}
js-tx-id = Transaction ID:{" "}
js-view-transactions-link = View transactions
js-tx-refused = The node refused the transaction.
js-need-coins = Need coins?{" "}
js-need-coins-link = Open this wallet's balance and mine a block to it
js-need-coins-end = .

js-chain-failed = The chain could not be fetched.
js-no-transactions-to-show = No transactions to show.
js-chain-empty = This chain holds no transactions yet.
js-n-transactions-one = { $n } transaction
js-n-transactions-other = { $n } transactions
js-in-n-blocks-one = in { $n } block
js-in-n-blocks-other = in { $n } blocks
js-chain-summary = { $transactions } { $blocks }
js-loaded = Loaded { $summary }.

js-balance-failed = The balance could not be fetched.
js-status-pending = Pending
js-status-confirmed = Confirmed
js-received = Received
js-sent = Sent
js-wallet-no-history = No transactions involve this wallet yet.
js-balance-status = Balance { $balance }, pending { $pending }.

js-node-answered = the node answered { $status }
js-ago-seconds = { $n } s ago
js-ago-minutes = { $n } min ago
js-ago-hours = { $n } h ago
js-ago-days = { $n } d ago
js-more-in-block = and { $n } more in block { $block }
js-no-chain-transactions = No transactions on the chain yet.
js-no-pending = No pending transactions.
js-first-of = first { $shown } of { $count }
js-mining-now = mining
js-mining-background = background
js-mining-on-demand = on demand
js-miner-balance = balance { $balance }
js-last-search = Last block mined here: { $block }, found after { $tries } tries in { $seconds } s ({ $rate } tries/s).
js-progress = Mining block { $block } at { $bits } bits: { $seconds } s, { $tries } tries of { $expected } needed on average, { $rate } tries/s.
js-chart-not-enough = Not enough blocks yet
js-chart-no-blocks = No blocks mined yet
js-chart-point = block { $block }: { $value }
js-chart-max = max { $value }
js-chart-range = blocks { $from }–{ $to }
js-chart-seconds = { $value } s
js-chart-count = { $value }
js-chart-rate = { $value }/s
js-last-blocks = last { $n } blocks
js-peer-reachable = reachable
js-peer-unreachable = unreachable
js-peer-retry = retry in { $seconds } s
js-remove = Remove
js-no-peers = No nodes yet.
js-live-connecting = Connecting…
js-live-open = Live
js-live-reconnecting = Reconnecting…
js-reorg = The node switched to a chain with more work: blocks from { $fork } were replaced (height { $height }), { $reinjected } transactions back to the pool.
js-mining-busy = Mining…
js-forged-one = Block { $block } forged with { $n } payment (nonce { $nonce }); its reward went to { $address }.
js-forged-other = Block { $block } forged with { $n } payments (nonce { $nonce }); its reward went to { $address }.
js-mining-failed = Mining failed: { $error }
js-resolve-busy = Asking peers for their chains…
js-resolve-no-peers = {" "}(no peers)
js-resolve-failed = Resolve failed: { $error }
js-cannot-reach-this-node = Could not reach this node: { $error }
js-peer-removed = { $peer } removed.
js-saved = Saved. Background mining { $background }, every { $interval } s at most; { $threads }; difficulty { $difficulty } bits; rewards to { $rewards }.
js-on = on
js-off = off
js-n-threads-one = { $n } thread
js-n-threads-other = { $n } threads
js-this-node-wallet = this node's wallet

## Known answers of the node and the wallet app, in the page's words (static/i18n.js
## matches the English answer; an English page shows the answer itself)

js-answer-will-be-added = Transaction will be added to Block { $block }
js-answer-chain-replaced = Our chain was replaced
js-answer-chain-authoritative = Our chain is authoritative
js-answer-nodes-added = New nodes have been added
js-answer-insufficient-funds = Insufficient funds: the sender has { $have } available (pending spends included) but sends { $need }.
js-answer-unreachable = The node cannot be reached. Check the URL and that the node is running.
js-answer-amount = The amount must be a positive number with up to 8 decimals, such as 5 or 0.25.
js-answer-empty = { $field } is empty.
js-answer-private-as-public = { $field } is a private key, not a public key: never share a private key.
js-answer-bad-key = { $field } is not a valid key.
js-answer-self-payment = The recipient is the sender's own address; pay another wallet.
js-answer-replay = This transaction was already submitted.
js-answer-signature = The signature does not match the transaction.
js-answer-bad-setting = { $field } is out of range.
js-answer-bad-url = The node URL is not valid.
js-answer-other = { $detail }
js-sync-adopted = adopted its chain
js-sync-not-better = no more work than ours
js-sync-invalid = its chain is invalid
js-sync-timeout = still validating its chain when the round ended
js-field-sender-address = Sender address
js-field-recipient-address = Recipient address
js-field-sender-private-key = Sender private key
js-field-amount = Amount
js-field-reward-address = Reward address
js-field-node = Node URL
js-field-block-interval = Block interval
js-field-mining-threads = Mining threads
js-field-mining-difficulty = Mining difficulty
js-field-nonce = Nonce
js-field-bits = Key size

# faucet (issue #22): the wallet app's Get coins, when the node pays from its faucet
js-faucet-sent-one = The faucet sent you { $amount } coin;{" "}
js-faucet-sent-other = The faucet sent you { $amount } coins;{" "}
js-faucet-arrives = the payment arrives with the next block (block { $block }).
conf-faucet = Faucet
conf-faucet-lead-before = Students' wallets ask{" "}
conf-faucet-lead-after = {" "}for coins: this node pays them from its own wallet, once per wallet and once per machine in a while. Mine blocks to this node's wallet to fill it.
conf-faucet-enabled = Pay wallets that ask
conf-faucet-amount = Coins per wallet
conf-faucet-amount-help = 0 turns the faucet off.
conf-found = Found by
js-found-configured = --peer at start
js-found-operator = added by the operator
js-found-itself = registered itself
js-found-discovered = discovered on the LAN
js-found-stored = kept from an earlier run
js-faucet-saved-on-one = Saved. The faucet pays { $amount } coin per wallet.
js-faucet-saved-on-other = Saved. The faucet pays { $amount } coins per wallet.
js-faucet-saved-off = Saved. The faucet is off.
# Storage refusing writes (a full disk), shown on the Mine dashboard.
js-storage-disk-full = The disk is full since { $since }: { $error }. Payments and blocks are refused until space is freed; the node retries by itself, no restart needed.
js-storage-failing = Storage failing since { $since }: { $error }. Payments and blocks are refused until the node can write again; it retries by itself.
## Merkle proofs and search (branch proofs)
search-label = Search the chain
search-placeholder = Height, hash, id or address
search-button = Search
search-empty = Type a block number, a block hash, a transaction id or an address to search for.
search-too-short = That is too short to search for: type a block number, or at least 8 hex digits of a hash or an id.
search-nothing = Nothing on this node starts with “{ $query }”: no block hash and no transaction id.
search-nothing-full = No block and no transaction on this node has the hash “{ $query }”.
search-ambiguous = More than one block or transaction starts with “{ $query }”: type more digits.
search-malformed = “{ $query }” is not a block number, a hash, a transaction id or an address: those are digits, or hex digits.
proof-title = Merkle proof
proof-intro = The path from this transaction's leaf up to its block's Merkle root: at each level, the sibling's hash and the side it sits on. Your browser hashes it again itself.
proof-leaf = Leaf
proof-level = Level { $level }
proof-sibling-left = sibling on the left
proof-sibling-right = sibling on the right
proof-root = Merkle root of block { $block }
proof-single = The block holds only this transaction: its leaf is the root, and the path is empty.
proof-json = The proof as JSON
proof-pending = A pending transaction has no Merkle proof yet: it gets one once a block holds it.
js-proof-checking = Checking in your browser…
js-proof-verified = Verified in your browser: the path leads from the leaf to the block's Merkle root.
js-proof-leaf-failed = Failed at the leaf: SHA-256 of this transaction's id and signature is not the proof's leaf.
js-proof-root-failed = Failed at level { $level }: the path leads to { $computed }, not to the block's Merkle root.
js-proof-no-crypto = This browser cannot compute SHA-256 here: { $error }
# Network page: the block tree (branch tree)
nav-network = Network
net-lead = Every block this node knows, drawn as a tree: the best chain along the top, blocks that lost below it. When two nodes mine at once the chain forks; the chain with the most work wins, and at equal work the lower hash.
net-tree-heading = Block tree
net-legend-best = Best chain
net-legend-stale = Stale block (lost)
net-legend-tip = A node's tip
net-loading = Loading the block tree…
net-peers-heading = Peers' tips
net-col-tip = Tip
net-from = From height
net-to = to
net-show = Show
net-newest = Newest blocks
net-range-help = At most 500 heights at once; empty: the newest 50.
js-net-this-node = this node
js-net-peers-one = { $n } peer
js-net-peers-other = { $n } peers
js-net-tie = Equal work: the lower hash wins
js-net-tie-hashes = { $winner } < { $loser }
js-net-mined-here = mined here
js-net-from = from { $peer }
js-net-from-unknown = arrived before the node last started
js-net-block = Block { $number }
js-net-txs-one = { $n } transaction
js-net-txs-other = { $n } transactions
js-net-first-seen = first seen { $time }
js-net-stale = stale: not on the best chain
js-net-best = on the best chain
js-net-summary = Heights { $from } to { $to }: { $blocks } blocks, { $stale } of them stale.
js-net-summary-none-one = Heights { $from } to { $to }: { $n } block, none stale.
js-net-summary-none-other = Heights { $from } to { $to }: { $n } blocks, none stale.
js-net-reorg = Reorganisation: the node switched to another branch from block { $fork } (height { $height }).
js-net-tip-elsewhere = not in this range
js-net-no-peers = No peers. Add some on the Configure page.
js-net-error = The block tree could not be loaded: { $detail }
