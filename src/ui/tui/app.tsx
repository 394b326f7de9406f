/**
 * The interactive view: title bar, the current view (packet list, packet detail, chain graph,
 * findings, or the help), the filter line while typing, and the status bar. It only reads the
 * model: snapshots come from the store through one hook, and every key changes view state only.
 *
 * Layout: at most rows − 1 lines (a full-height frame makes Ink clear the screen on every
 * render), each cut at the terminal width, so nothing wraps and nothing scrolls the terminal.
 */
import {useEffect, useMemo} from 'react';
import {Box, Text, useApp} from 'ink';
import {refKey} from '../../model/crossing.js';
import type {PacketRef} from '../../model/fleet.js';
import type {Packet} from '../../model/types.js';
import {ChainGraph, GRAPH_HEADER_LINES} from './chain-graph.js';
import {FilterBar} from './filter-bar.js';
import {applyFilter, EMPTY_FILTER, parseFilter} from './filter.js';
import {FindingsView} from './findings-view.js';
import {hooksOfNodes, layoutGraph, pathOf} from './graph-layout.js';
import {Help, helpMaxTop} from './help.js';
import {journeyTargets, refName} from './journey-lines.js';
import {useTerminalSize, type TerminalSize} from './hooks/use-terminal-size.js';
import {useTraceStore, type SnapshotSource} from './hooks/use-trace-store.js';
import {PacketDetail} from './packet-detail.js';
import {PacketList, previewHeight} from './packet-list.js';
import {StatusBar} from './status-bar.js';
import {createTheme, ThemeContext} from './theme.js';
import {TitleBar} from './title-bar.js';
import {visible, visibleDeep} from '../visible.js';
import {useKeyRouter} from './keys.js';
import {useAppKeys} from './use-app-keys.js';
import {useAppState} from './use-app-state.js';
import {useChainGraphKeys} from './use-chain-graph-keys.js';
import {useChainGraphState} from './use-chain-graph-state.js';
import {useFilterKeys} from './use-filter-keys.js';
import {activeFilterText, useFilterState} from './use-filter-state.js';
import {useFindingsKeys} from './use-findings-keys.js';
import {useFindingsState} from './use-findings-state.js';
import {usePacketDetailKeys} from './use-packet-detail-keys.js';
import {hopIndex, usePacketDetailState} from './use-packet-detail-state.js';
import {usePacketListKeys} from './use-packet-list-keys.js';
import {cursorIndex, usePacketListState} from './use-packet-list-state.js';

export interface AppProps {
	/** Where snapshots come from: the TraceStore, or a fixed snapshot in tests. */
	readonly source: SnapshotSource;
	/** What is read, for the title bar: file names or `(stdin)`. */
	readonly title: string;
	/** Keys can be read (there is a terminal to read them from). @default true */
	readonly keys?: boolean;
	/** Why there are no keys (shown in the status bar), e.g. `no terminal`. */
	readonly noKeysReason?: string;
	/** Quit when the input has ended. @default false */
	readonly exitAtEnd?: boolean;
	/** Use colours. @default false */
	readonly color?: boolean;
	/** Fixed terminal size (tests); by default stdout's, following resizes. */
	readonly size?: TerminalSize;
	/** Called when the user quits (q); the caller unmounts. Defaults to Ink's exit. */
	readonly onQuit?: () => void;
}

const MIN_ROWS = 8;

export function App({source, title, keys = true, noKeysReason, exitAtEnd = false, color = false, size: sizeOverride, onQuit}: AppProps) {
	const theme = useMemo(() => createTheme({color}), [color]);
	const {exit} = useApp();
	const quit = onQuit ?? (() => exit());
	const snapshot = useTraceStore(source);
	const size = useTerminalSize(sizeOverride);

	const [app, appDispatch] = useAppState();
	const [filter, filterDispatch] = useFilterState();
	const [selection, selectionDispatch] = usePacketListState();
	const [detail, detailDispatch] = usePacketDetailState();
	const [graphState, graphDispatch] = useChainGraphState();
	const [findingsState, findingsDispatch] = useFindingsState();

	// A row's number: the packet id for one node; with several, the order the packets came in.
	const rowId = snapshot.rowId ?? packetId;
	// Packets in trace order (the store lists them as they complete).
	const packets = useMemo(() => inRowOrder(snapshot.packets, rowId), [snapshot.packets]);
	const byRef = useMemo(() => new Map(packets.map(p => [refKey(p.node, p.id), p])), [packets]);
	const packetOf = (r: PacketRef) => byRef.get(refKey(r.node || undefined, r.id));
	// Several nodes: each row names its node, and a packet is `node #id`.
	const manyNodes = (snapshot.nodes?.length ?? 0) > 1;
	const filterText = activeFilterText(filter);
	const parsedFilter = useMemo(() => (filterText.trim() ? parseFilter(filterText) : EMPTY_FILTER), [filterText]);
	const shown = useMemo(() => applyFilter(parsedFilter, packets), [parsedFilter, packets]);
	const ids = useMemo(() => shown.map(rowId), [shown]);
	const cursor = cursorIndex(selection, ids);
	const selected: Packet | undefined = cursor >= 0 ? shown[cursor] : undefined;
	const selectedRow = selected ? rowId(selected) : undefined;
	const crossing = useMemo(() => (selected ? snapshot.crossing?.(selected) : undefined), [selected, snapshot]);
	const findings = snapshot.findings;
	// The chain graph of the selected packet's node (each node has its own chains).
	const graph = (selected?.node !== undefined ? snapshot.graphs?.[selected.node] : undefined) ?? snapshot.graph;

	// Layout: rows − 1 lines in all.
	const columns = Math.max(20, size.columns);
	const total = Math.max(1, size.rows - 1);
	const notice = app.notice;
	const body = total - 2 - (filter.editing ? 1 : 0) - (notice ? 1 : 0);
	const listPage = Math.max(1, body - 1 - previewHeight(body));

	// The graph is laid out only while it is shown.
	const onGraph = app.view === 'graph' && !app.help;
	const hookOf = useMemo(() => (onGraph ? hooksOfNodes(graph) : new Map()), [onGraph, graph]);
	const marked = useMemo(() => new Set(app.marked), [app.marked]);
	const layout = useMemo(() => {
		if (!onGraph) return {lines: [], lineOf: new Map<string, number>()};
		const path = pathOf(selected);
		return layoutGraph({graph, hookOf, pathNodes: path.nodes, pathEdges: path.edges, marked, width: columns});
	}, [onGraph, graph, hookOf, selected, marked, columns]);
	const graphRows = Math.max(1, body - GRAPH_HEADER_LINES);
	const graphMax = Math.max(0, layout.lines.length - graphRows);

	// Who has the keys: the filter line while typing; else the global keys and the current view.
	const idle = keys && !filter.editing && !app.help;
	const router = useKeyRouter(keys);
	useAppKeys({
		router,
		isActive: keys && !filter.editing,
		help: app.help,
		onQuit: quit,
		onHelp: () => appDispatch({type: 'toggleHelp'}),
		onView: view => appDispatch({type: 'show', view}),
		onNext: by => appDispatch({type: by === 1 ? 'next' : 'previous'}),
		onFilter: () => filterDispatch({type: 'open'}),
		onHelpScroll: motion => {
			const max = helpMaxTop(body);
			const page = Math.max(1, body - 2);
			const by = {down: 1, up: -1, pageDown: page, pageUp: -page, first: -Infinity, last: Infinity}[motion];
			appDispatch({type: 'scrollHelp', by: Number.isFinite(by) ? by : by > 0 ? max : -max, max});
		},
		onBack: () => {
			if (!app.help && app.view === 'packets' && filter.applied) filterDispatch({type: 'clear'});
			appDispatch({type: 'back'});
		},
	});
	useFilterKeys({router, isActive: keys && filter.editing, dispatch: filterDispatch});
	usePacketListKeys({
		router,
		isActive: idle && app.view === 'packets',
		ids,
		pageSize: listPage,
		dispatch: selectionDispatch,
		onOpen: () => appDispatch({type: 'show', view: 'detail'}),
	});
	const movePacket = (by: -1 | 1) => selectionDispatch({type: 'move', by, ids});
	// o / w / r on the detail of a packet that crossed: the same packet at the other node, the outer packet, the other direction.
	const jump = (what: 'other' | 'outer' | 'back') => {
		if (!selected) return;
		const target = crossing ? journeyTargets(selected, crossing)[what] : undefined;
		const name = {other: 'the same packet at another node', outer: 'an outer packet that carried it', back: 'a reply (or request) that crossed'}[what];
		if (!target) return appDispatch({type: 'notice', text: `${refName(selected)}: no ${name.replace(/^(the|an|a) /, '')}`});
		const q = packetOf(target);
		if (!q) return appDispatch({type: 'notice', text: `${refName(target)} is no longer kept (--keep)`});
		if (!shown.includes(q)) filterDispatch({type: 'clear'});
		appDispatch({type: 'notice', text: `${refName(target)}: ${name}${shown.includes(q) ? '' : ' (the filter is cleared to show it)'}`});
		selectionDispatch({type: 'select', id: rowId(q)});
	};
	// `e` on the detail: the model's prediction beside the trace (rows instead of hops).
	const explained = useMemo(
		() => (detail.explain && app.view === 'detail' && selected ? visibleDeep(snapshot.explain?.(selected) ?? {kind: 'none' as const, why: 'no prediction: the dump is needed (replay with --rules node.save)'}) : undefined),
		[detail.explain, app.view, selected, snapshot],
	);
	const detailCount = explained?.kind === 'ready' ? explained.rows.length : explained ? 0 : (selected?.hops.length ?? 0);
	usePacketDetailKeys({
		router,
		isActive: idle && app.view === 'detail',
		packetId: selectedRow,
		hops: detailCount,
		pageSize: Math.max(1, body - 6),
		dispatch: detailDispatch,
		onPacket: movePacket,
		onJump: jump,
	});
	useChainGraphKeys({router, isActive: idle && app.view === 'graph', max: graphMax, pageSize: graphRows, dispatch: graphDispatch, onPacket: movePacket});
	useFindingsKeys({
		router,
		isActive: idle && app.view === 'findings',
		count: findings.length,
		pageSize: Math.max(1, Math.floor(body / 2)),
		dispatch: findingsDispatch,
		onOpen: () => {
			const f = findings[Math.min(findingsState.cursor, findings.length - 1)];
			if (!f) return;
			if (f.packets.length > 0) {
				// A finding of one node names that node's packets.
				const kept = f.packets.map(id => byRef.get(refKey(f.node, id))).filter(p => p !== undefined);
				filterDispatch({type: 'set', text: `${f.node ? `node:${f.node} ` : ''}id:${f.packets.join(',')}`});
				if (kept.length > 0) selectionDispatch({type: 'select', id: Math.min(...kept.map(rowId))});
				appDispatch({
					type: 'show',
					view: 'packets',
					notice: `${f.kind}: ${f.packets.length} packet(s)${f.node ? ` of ${f.node}` : ''}${kept.length < f.packets.length ? `, ${f.packets.length - kept.length} no longer kept (--keep)` : ''} · Esc clears the filter`,
				});
			} else if (f.rules.length > 0) {
				const chains = [...new Set(f.rules.map(r => `${r.table}:${r.chain}`))];
				const traversed = chains.filter(c => graph.nodes.some(n => n.id === c));
				appDispatch({
					type: 'mark',
					chains,
					view: 'graph',
					notice: traversed.length > 0 ? `${f.kind}: ${traversed.join(', ')} marked !` : `${f.kind}: ${chains.join(', ')} not traversed by any packet`,
				});
			}
		},
	});

	// A finding marked chains: scroll the graph to the first one.
	useEffect(() => {
		if (app.view !== 'graph' || app.marked.length === 0) return;
		const line = Math.min(...app.marked.map(c => layout.lineOf.get(c) ?? Number.POSITIVE_INFINITY));
		if (Number.isFinite(line)) graphDispatch({type: 'to', top: line - 2, max: graphMax});
	}, [app.marked]);

	// The detail stays on its packet: opening it stops following (the graph keeps following, to
	// show each new packet's path as it comes).
	useEffect(() => {
		if (app.view === 'detail' && selection.following && selectedRow !== undefined) selectionDispatch({type: 'select', id: selectedRow});
	}, [app.view, selection.following, selectedRow]);

	useEffect(() => {
		if (exitAtEnd && snapshot.ended) quit();
	}, [exitAtEnd, snapshot.ended]);

	if (size.rows < MIN_ROWS) {
		return <Text wrap="truncate-end">tracewatch: the terminal is too small ({size.columns}×{size.rows}); it needs {MIN_ROWS} rows. q quits.</Text>;
	}

	let view;
	if (app.help) view = <Help height={body} width={columns} top={app.helpTop ?? 0} />;
	else if (app.view === 'packets') {
		view = (
			<PacketList
				packets={shown}
				cursor={cursor}
				height={body}
				width={columns}
				inputs={snapshot.inputs}
				nodes={manyNodes}
				emptyText={emptyText(packets.length, snapshot.linesRead, snapshot.ended, filterText)}
			/>
		);
	} else if (app.view === 'detail') {
		view = (
			<PacketDetail
				packet={selected}
				hop={selectedRow !== undefined ? hopIndex(detail, selectedRow, detailCount) : 0}
				height={body}
				width={columns}
				inputs={snapshot.inputs}
				{...(explained ? {explained} : {})}
				{...(crossing ? {crossing, packetOf} : {})}
			/>
		);
	} else if (app.view === 'graph') {
		view = <ChainGraph layout={layout} packet={selected} top={Math.min(graphState.top, graphMax)} height={body} width={columns} />;
	} else {
		view = <FindingsView findings={findings} cursor={Math.min(findingsState.cursor, Math.max(0, findings.length - 1))} height={body} width={columns} />;
	}

	return (
		<ThemeContext.Provider value={theme}>
			<Box flexDirection="column" width={columns} height={total} overflow="hidden">
				<TitleBar title={visible(title)} view={app.view} findings={findings.length} width={columns} />
				{view}
				{filter.editing ? <FilterBar draft={filter.draft} shown={shown.length} total={packets.length} errors={parsedFilter.errors} /> : null}
				{notice ? (
					<Text wrap="truncate-end" {...theme.tone('info')}>
						{notice}
					</Text>
				) : null}
				<StatusBar
					snapshot={snapshot}
					width={columns}
					following={selection.following}
					below={cursor >= 0 ? ids.length - 1 - cursor : 0}
					filter={filter.editing ? '' : filter.applied}
					shown={shown.length}
					{...(keys ? {} : {noKeys: noKeysReason ?? 'no terminal'})}
				/>
			</Box>
		</ThemeContext.Provider>
	);
}

function emptyText(kept: number, lines: number, ended: boolean, filter: string): string {
	if (kept > 0 && filter.trim()) return `no packet matches "${filter.trim()}" (${kept} kept) · Esc clears the filter`;
	if (lines === 0) return ended ? 'the input was empty' : 'waiting for trace lines…';
	return ended ? `no packets in ${lines} line(s): no TRACE or LOG lines found (tracewatch doctor explains why a trace may be empty)` : `reading… ${lines} line(s), no complete packet yet`;
}

const packetId = (p: Packet) => p.id;

/** The packets sorted by row (`rowId`: the id, or with several nodes the order they came in); the same array when they already are. */
export function inRowOrder(packets: readonly Packet[], rowId: (p: Packet) => number): readonly Packet[] {
	for (let i = 1; i < packets.length; i++) {
		if (rowId(packets[i - 1]!) > rowId(packets[i]!)) return [...packets].sort((a, b) => rowId(a) - rowId(b));
	}
	return packets;
}
